//! The WebSite REST models, as the seed's C# classes serialize them: PascalCase names, GUIDs
//! as strings, unknown values kept.

use std::collections::BTreeMap;

use cc_core::{id_type, open_enum};
use serde::{Deserialize, Serialize};

id_type! {
    /// A WebSite routing rule.
    pub struct WebSiteRoutingId;
}

id_type! {
    /// A scenario (form).
    pub struct ScenarioId;
}

id_type! {
    /// A scenario control.
    pub struct ControlId;
}

id_type! {
    /// A chat.
    pub struct ChatId;
}

id_type! {
    /// An agent.
    pub struct AgentId;
}

open_enum! {
    /// The application types a page can embed (`~/api/Routing/{webapp}`).
    pub enum WebApp {
        /// Chat.
        WebChat = "webchat",
        /// Web form.
        WebForm = "webform",
        /// Click to call.
        WebClick = "webclick",
        /// Callback request.
        WebCback = "webcback",
        /// Message.
        WebMsg = "webmsg",
    }
}

open_enum! {
    /// Availability of the application.
    pub enum Signal {
        /// Agents are free.
        Free = "Free",
        /// Agents are busy.
        Busy = "Busy",
        /// Out of hours.
        Closed = "Closed",
        /// Do not show.
        Hidden = "Hidden",
    }
}

open_enum! {
    /// A scenario control's type.
    pub enum ControlType {
        /// Text only.
        LabelOnly = "LabelOnly",
        /// Free text.
        TextArea = "TextArea",
        /// One of a list.
        DropDown = "DropDown",
        /// One of a set.
        RadioButtons = "RadioButtons",
        /// Several of a set.
        CheckBoxes = "CheckBoxes",
        /// A number.
        Integer = "Integer",
        /// A date.
        Date = "Date",
        /// A time.
        Time = "Time",
        /// A date and time.
        DateTime = "DateTime",
    }
}

open_enum! {
    /// A chat's status, in the order a chat goes through them.
    pub enum ChatStatus {
        /// Being set up.
        Pilot = "Pilot",
        /// In the interactive router.
        Icr = "ICR",
        /// Waiting in queue.
        Waiting = "Waiting",
        /// Offered to an agent.
        Alerting = "Alerting",
        /// An agent answered.
        Answered = "Answered",
        /// Over.
        Closed = "Closed",
    }
}

/// `RoutingModel`: how (and whether) the application is configured for the page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingModel {
    /// Element to render into.
    #[serde(rename = "TargetElementID", default)]
    pub target_element_id: Option<String>,
    /// Web response text.
    #[serde(default)]
    pub web_response: Option<String>,
    /// The scenario (form) to show.
    #[serde(default)]
    pub scenario: Option<ScenarioModel>,
    /// Availability.
    #[serde(default)]
    pub signal: Option<Signal>,
    /// The visitor's running chat, if any.
    #[serde(default)]
    pub chat_running: Option<ChatModel>,
    /// HTML template (with `IncludeSettings=true`).
    #[serde(default)]
    pub html_template: Option<String>,
    /// Settings (with `IncludeSettings=true`).
    #[serde(default)]
    pub settings: Option<BTreeMap<String, String>>,
    /// Localized texts (with `IncludeSettings=true`).
    #[serde(default)]
    pub literals: Option<BTreeMap<String, String>>,
    /// The visitor's display name.
    #[serde(default)]
    pub party_name: Option<String>,
    /// Solicitation timeout.
    #[serde(default, deserialize_with = "cc_core::de::lenient_opt_i64")]
    pub solicitation_time_out: Option<i64>,
    /// Solicitation duration.
    #[serde(default, deserialize_with = "cc_core::de::lenient_opt_i64")]
    pub solicitation_duration: Option<i64>,
    /// The routing rule that matched.
    #[serde(default)]
    pub web_site_routing_id: Option<WebSiteRoutingId>,
}

/// `ScenarioModel`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScenarioModel {
    /// The scenario.
    pub scenario_id: ScenarioId,
    /// Title.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Culture (`cs-CZ`).
    #[serde(default)]
    pub culture: Option<String>,
    /// Controls.
    #[serde(default)]
    pub controls: Vec<ControlModel>,
}

/// `ControlModel`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ControlModel {
    /// The control.
    pub control_id: ControlId,
    /// Screen position.
    #[serde(default)]
    pub screen_rank: i64,
    /// Position.
    #[serde(default)]
    pub rank: i64,
    /// Label.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Help text.
    #[serde(default)]
    pub description: Option<String>,
    /// Type.
    pub control_type: ControlType,
    /// Default number.
    #[serde(default, deserialize_with = "cc_core::de::lenient_opt_i64")]
    pub control_number: Option<i64>,
    /// Default text.
    #[serde(default)]
    pub control_text: Option<String>,
    /// Required.
    #[serde(default)]
    pub mandatory_field: bool,
    /// Choices.
    #[serde(default)]
    pub parameters: Vec<ParameterModel>,
}

/// `ParameterModel`: one choice of a control.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterModel {
    /// Position.
    #[serde(default)]
    pub rank: i64,
    /// Label.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Value as a number.
    #[serde(default)]
    pub result_number: i64,
    /// Value as text.
    #[serde(default)]
    pub result_text: Option<String>,
    /// Selected by default.
    #[serde(default)]
    pub default_item: bool,
}

/// `ResultModel`: a filled-in scenario.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultModel {
    /// The scenario.
    #[serde(default)]
    pub scenario_id: Option<ScenarioId>,
    /// Culture.
    #[serde(default)]
    pub culture: Option<String>,
    /// Answers.
    #[serde(default)]
    pub values: Vec<ValueModel>,
    /// The user token.
    #[serde(default)]
    pub user_token: Option<String>,
    /// External response.
    #[serde(default)]
    pub ext_response: Option<String>,
    /// Visitor name.
    #[serde(default)]
    pub party_name: Option<String>,
    /// Page URL.
    #[serde(default)]
    pub location: Option<String>,
    /// The routing rule.
    #[serde(default)]
    pub web_site_routing_id: Option<WebSiteRoutingId>,
}

/// `ValueModel`: one answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValueModel {
    /// The control answered.
    pub control_id: ControlId,
    /// Text answer.
    #[serde(default)]
    pub result_text: Option<String>,
    /// Number answer.
    #[serde(default, deserialize_with = "cc_core::de::lenient_opt_i64")]
    pub result_number: Option<i64>,
    /// Time answer: a .NET `DateTime` (UTC), kept as sent.
    #[serde(default)]
    pub result_time: Option<String>,
}

/// `ChatModel`: the visitor's running chat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ChatModel {
    /// The chat.
    pub chat_id: ChatId,
    /// The agent's name.
    #[serde(default)]
    pub agent_name: Option<String>,
    /// The agent.
    #[serde(default)]
    pub agent_id: Option<AgentId>,
    /// Number of messages in the conversation.
    #[serde(default)]
    pub counter: i64,
    /// Status.
    pub status: ChatStatus,
    /// The other party is typing.
    #[serde(default)]
    pub is_typing: bool,
    /// The sentences.
    #[serde(default)]
    pub sentences: Vec<SentenceModel>,
    /// Navigation data.
    #[serde(default)]
    pub navigation: Option<String>,
    /// Co-browsing data.
    #[serde(default)]
    pub co_browsing_data: Option<String>,
}

/// `SentenceModel`: one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SentenceModel {
    /// Order of the message from 1 (meaningful for server → browser messages).
    #[serde(default)]
    pub counter: i64,
    /// When it was sent (.NET `DateTime`, UTC, kept as sent).
    #[serde(default)]
    pub time_sent: Option<String>,
    /// How the party is labelled.
    #[serde(default)]
    pub party_name: Option<String>,
    /// `true`: agent → visitor.
    #[serde(default)]
    pub is_outbound: bool,
    /// The text, HTML-encoded (XSS-safe) as received; see [`SentenceModel::decoded_text`].
    #[serde(default)]
    pub text: String,
    /// The page it was sent from.
    #[serde(default)]
    pub location: Option<String>,
    /// The other side confirmed it.
    #[serde(default)]
    pub is_confirmed: bool,
}

impl SentenceModel {
    /// The text with HTML entities decoded (`&lt;` → `<`, `&#39;` → `'`, `&#x1F600;` → 😀).
    /// Render [`SentenceModel::text`] as-is in HTML; use this for plain-text sinks.
    pub fn decoded_text(&self) -> String {
        decode_html(&self.text)
    }
}

/// Decodes the named entities `&amp; &lt; &gt; &quot; &apos; &nbsp;` and numeric references.
/// Anything else stays as written.
pub fn decode_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let candidate = &rest[start..];
        let decoded = candidate.find(';').filter(|&end| end <= 12).and_then(|end| {
            let entity = &candidate[1..end];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .map(|hex| u32::from_str_radix(hex, 16).ok())
                    .unwrap_or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &candidate[len..];
            }
            None => {
                out.push('&');
                rest = &candidate[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_decoding() {
        assert_eq!(
            decode_html("a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; &#x1F600; &#128512;"),
            "a <b> & \"c\" 'd' 😀 😀"
        );
        assert_eq!(decode_html("AT&T &unknown; & &#xZZ; &"), "AT&T &unknown; & &#xZZ; &");
        assert_eq!(decode_html("no entities"), "no entities");
    }
}
