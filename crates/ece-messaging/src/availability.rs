//! Agent availability before a chat starts: ECE's chat web-service API
//! (`/system/egain/chat/entrypoint/…`), older than the v19 client-application API and
//! unauthenticated. Its answers are small XML documents; this room parses them (no I/O) and
//! names the paths; `EceClient::agent_availability` and friends make the calls.
//!
//! What is documented (Cisco TechNote 212332 and O'Rourke's ECE notes, see
//! `../shared/vendor-notes/ece-extras.md` §5):
//!
//! | call | path | answer |
//! |---|---|---|
//! | agent availability | `agentAvailability/{entryPoint}` | `<agentAvailability available="true"/>` |
//! | agent capacity | `capacity/{entryPoint}` | `<availableSlots><ns2:count>3</ns2:count></availableSlots>` |
//! | eligibility (queue depth) | `checkEligibility/{entryPoint}` **(path assumed)** | `<checkEligibility responseType="0"/>` |
//! | chat allowed | `chatAllowed/{entryPoint}` **(path assumed)** | `<chatAllowed allowed="true"/>` |
//!
//! The last two paths are cut off in every stored source: they are our assumption, and
//! [`LegacyChatPaths`] lets you set them. Media Routing Domain restrictions apply to the
//! answers, and ECE's own notes contradict each other on whether availability counts only the
//! agents skilled for the entry point; capacity (a count of free slots) is the least ambiguous.

use quick_xml::events::Event;

use crate::error::Error;

/// The chat web-service API's root under the web server.
pub const LEGACY_CHAT_PATH: &str = "/system/egain/chat/entrypoint";

/// The last path segment before the entry point id, per call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyChatPaths {
    /// `agentAvailability` (documented).
    pub agent_availability: String,
    /// `capacity` (documented).
    pub capacity: String,
    /// `checkEligibility` (assumed).
    pub eligibility: String,
    /// `chatAllowed` (assumed).
    pub chat_allowed: String,
}

impl Default for LegacyChatPaths {
    fn default() -> Self {
        Self {
            agent_availability: "agentAvailability".into(),
            capacity: "capacity".into(),
            eligibility: "checkEligibility".into(),
            chat_allowed: "chatAllowed".into(),
        }
    }
}

/// `checkEligibility`'s `responseType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// `0`: the queue can take new chats.
    Eligible,
    /// `1`: no agent is available.
    NoAgent,
    /// `2`: the queue is at its maximum depth.
    QueueFull,
    /// Another value, as sent.
    Other(i64),
}

impl Eligibility {
    fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Eligible,
            1 => Self::NoAgent,
            2 => Self::QueueFull,
            other => Self::Other(other),
        }
    }
}

/// The first element's attribute `name` and the text of the first element whose local name
/// is `text_of` (namespace prefixes ignored), of a small XML answer.
fn read(
    body: &[u8],
    root: &str,
    attribute: &str,
    text_of: &str,
) -> Result<(Option<String>, Option<String>), Error> {
    let invalid = |reason: String| Error::Invalid { field: format!("{root} answer"), reason };
    let mut reader = quick_xml::Reader::from_reader(body);
    let (mut attr, mut text, mut in_text, mut seen_root) = (None, None, false, false);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| invalid(e.to_string()))? {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name();
                if !seen_root {
                    if name.as_ref() != root {
                        return Err(invalid(format!("expected <{root}>, got <{}>", name.as_ref())));
                    }
                    seen_root = true;
                    for a in e.attributes().flatten() {
                        if a.key.local_name().as_ref() == attribute {
                            attr = Some(a.value.trim().to_owned());
                        }
                    }
                }
                in_text = name.as_ref() == text_of;
            }
            Event::Text(t) if in_text => {
                text = Some(t.xml10_content().trim().to_owned());
                in_text = false;
            }
            Event::End(_) => in_text = false,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !seen_root {
        return Err(invalid("empty answer".into()));
    }
    Ok((attr, text))
}

fn boolean(root: &str, value: Option<String>) -> Result<bool, Error> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        other => Err(Error::Invalid {
            field: format!("{root} answer"),
            reason: format!("expected true or false, got {other:?}"),
        }),
    }
}

/// `<agentAvailability available="true|false"/>`.
pub fn parse_agent_availability(body: &[u8]) -> Result<bool, Error> {
    let (available, _) = read(body, "agentAvailability", "available", "")?;
    boolean("agentAvailability", available)
}

/// `<availableSlots><ns2:count>N</ns2:count></availableSlots>` (a `count` attribute is read
/// too).
pub fn parse_capacity(body: &[u8]) -> Result<u32, Error> {
    let (attribute, text) = read(body, "availableSlots", "count", "count")?;
    let raw = text.or(attribute).unwrap_or_default();
    raw.parse().map_err(|_| Error::Invalid {
        field: "availableSlots answer".into(),
        reason: format!("count {raw:?} is not a whole number"),
    })
}

/// `<checkEligibility responseType="0|1|2"/>`.
pub fn parse_eligibility(body: &[u8]) -> Result<Eligibility, Error> {
    let (code, _) = read(body, "checkEligibility", "responseType", "")?;
    let raw = code.unwrap_or_default();
    raw.parse().map(Eligibility::from_code).map_err(|_| Error::Invalid {
        field: "checkEligibility answer".into(),
        reason: format!("responseType {raw:?} is not a number"),
    })
}

/// `<chatAllowed allowed="true|false"/>`.
pub fn parse_chat_allowed(body: &[u8]) -> Result<bool, Error> {
    let (allowed, _) = read(body, "chatAllowed", "allowed", "")?;
    boolean("chatAllowed", allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_answers_parse_and_others_are_named() {
        let ns = r#"xmlns:ns2="http://bindings.egain.com/chat""#;
        assert!(
            parse_agent_availability(format!(r#"<agentAvailability available="true" {ns}/>"#).as_bytes())
                .unwrap()
        );
        assert_eq!(
            parse_capacity(
                format!("<availableSlots {ns}><ns2:count>3</ns2:count></availableSlots>").as_bytes()
            )
            .unwrap(),
            3
        );
        assert_eq!(
            parse_eligibility(br#"<checkEligibility responseType="2"/>"#).unwrap(),
            Eligibility::QueueFull
        );
        assert_eq!(
            parse_eligibility(br#"<checkEligibility responseType="7"/>"#).unwrap(),
            Eligibility::Other(7)
        );
        assert!(!parse_chat_allowed(br#"<?xml version="1.0"?><chatAllowed allowed="FALSE"/>"#).unwrap());
        for (bad, says) in [
            (&b""[..], "empty"),
            (b"<other available=\"true\"/>", "expected <agentAvailability>"),
            (b"<agentAvailability available=\"maybe\"/>", "true or false"),
            (b"<agentAvailability", "agentAvailability answer"),
        ] {
            let error = parse_agent_availability(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{error}");
        }
        let error = parse_capacity(b"<availableSlots><count>-1</count></availableSlots>").unwrap_err();
        assert!(error.to_string().contains("whole number"), "{error}");
    }
}
