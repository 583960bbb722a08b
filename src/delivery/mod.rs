//! Delivery: from a claimed (event, webhook) pair to a recorded attempt.
//!
//! - [`dispatcher`]: claims due work, bounds concurrency, records results in batches.
//! - [`attempt`]: one try: [`render`] the body, [`sign`] the request, [`sender`] sends
//!   it with the [`http_client`] through the [`address_guard`], and the answer
//!   becomes a verdict.
//! - [`decide`]: the next state after a verdict (retry schedule, health), pure.
//! - [`test_send`]: the synchronous "Send Test" / "Send".

pub mod address_guard;
pub mod attempt;
pub mod decide;
pub mod dispatcher;
pub mod http_client;
pub mod messages;
pub mod platform_reply;
pub mod render;
pub mod sender;
pub mod sign;
pub mod system_events;
pub mod test_send;
