//! Who a chat message should notify (@mentions), per webhook. Each platform uses what
//! it supports: DingTalk mobiles and user ids, WeCom user ids and mobiles, Feishu and
//! Slack and Discord user ids, and "everyone" where there is such a thing.

use serde::{Deserialize, Serialize};

pub const MAX_MENTIONS: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Mentions {
    /// Notify everyone in the chat.
    #[serde(default)]
    pub all: bool,
    /// Platform user ids (DingTalk userId, WeCom userid, Feishu open_id, Slack or
    /// Discord user id).
    #[serde(default)]
    pub user_ids: Vec<String>,
    /// Mobile numbers (DingTalk, WeCom).
    #[serde(default)]
    pub mobiles: Vec<String>,
}

impl Mentions {
    pub fn is_empty(&self) -> bool {
        !self.all && self.user_ids.is_empty() && self.mobiles.is_empty()
    }

    /// Trims entries and refuses what could not be a user id or a mobile number.
    /// `Err((field, message))`.
    pub fn validate(mut self) -> Result<Self, (String, String)> {
        if self.user_ids.len() + self.mobiles.len() > MAX_MENTIONS {
            return Err((
                "mentions".into(),
                format!("at most {MAX_MENTIONS} people can be mentioned"),
            ));
        }
        for (index, id) in self.user_ids.iter_mut().enumerate() {
            *id = id.trim().to_string();
            let valid = !id.is_empty()
                && id.len() <= 128
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c));
            if !valid {
                return Err((
                    format!("mentions.user_ids[{index}]"),
                    "must be 1 to 128 letters, digits or _-.@".into(),
                ));
            }
        }
        for (index, mobile) in self.mobiles.iter_mut().enumerate() {
            *mobile = mobile.trim().to_string();
            let digits = mobile.chars().filter(char::is_ascii_digit).count();
            let valid = (5..=20).contains(&digits)
                && mobile
                    .chars()
                    .all(|c| c.is_ascii_digit() || "+- ".contains(c));
            if !valid {
                return Err((
                    format!("mentions.mobiles[{index}]"),
                    "must be a phone number".into(),
                ));
            }
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_checked_and_named() {
        let ok = Mentions {
            all: true,
            user_ids: vec![" u_1 ".into()],
            mobiles: vec!["+86 138-0000-0000".into()],
        };
        assert_eq!(ok.validate().unwrap().user_ids, ["u_1"]);
        let bad = Mentions {
            user_ids: vec!["a b".into()],
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "mentions.user_ids[0]");
        let bad = Mentions {
            mobiles: vec!["call me".into()],
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().0, "mentions.mobiles[0]");
    }
}
