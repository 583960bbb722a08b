//! A webhook's URL as typed into the form: parsing never panics, what it accepts
//! parses again to the same URL, and checking its address never panics.
#![no_main]

use hookcast::delivery::address_guard::AddressPolicy;
use hookcast::domain::target_url::TargetUrl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(target) = TargetUrl::parse(raw) else {
        return;
    };
    let again = TargetUrl::parse(target.as_str()).expect("an accepted URL parses again");
    assert_eq!(again.as_str(), target.as_str());
    let ip = match target.url().host() {
        Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
        _ => None,
    };
    if let Some(ip) = ip {
        let _ = AddressPolicy::default().check(ip);
    }
});
