//! Every SimProt data structure of the seed, with its PascalCase member names. GUIDs are
//! strings on the wire and [`Guid`] in Rust; .NET `DateTime`s are UTC, written as RFC 3339
//! ([`UtcTime`]). The same types serialize as JSON and, inside frames, as MessagePack maps.

use std::fmt;

use cc_core::{EpochMillis, open_enum, open_int_enum};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A .NET `Guid`: 32 hex digits as `8-4-4-4-12`, kept in lower case
/// (as .NET writes them; .NET compares them ignoring case, so `==` here does too). Anything else is refused
/// when parsing (ids are what the contract fixes).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Guid(String);

impl Guid {
    /// Checks and wraps a GUID string (braces are accepted and dropped, hex digits lower-cased).
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim().trim_start_matches('{').trim_end_matches('}');
        let groups: Vec<&str> = t.split('-').collect();
        let shape = groups.iter().map(|g| g.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12];
        (shape && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit())))
            .then(|| Self(t.to_ascii_lowercase()))
    }

    /// The GUID text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({})", self.0)
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Guid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Guid::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a GUID")))
    }
}

/// A UTC date-time (.NET `DateTime`), written as RFC 3339 with milliseconds
/// (`2024-05-01T10:00:00.000Z`); an offset or no zone at all (taken as UTC) is read too.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct UtcTime(pub EpochMillis);

impl Serialize for UtcTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for UtcTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        EpochMillis::parse_rfc3339(&text)
            .map(UtcTime)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 date-time")))
    }
}

open_enum! {
    /// A chat's phase. The list messages also use Queue, ClosedByAgent and ClosedByExtApp.
    pub enum Status {
        /// Registered; conditions being evaluated.
        Pilot = "Pilot",
        /// An automatic conversation.
        Icr = "ICR",
        /// No free agent.
        Waiting = "Waiting",
        /// Offered to an agent.
        Alerting = "Alerting",
        /// With an agent.
        Answered = "Answered",
        /// Over.
        Closed = "Closed",
        /// Queued (list messages).
        Queue = "Queue",
        /// Closed by the agent (list messages).
        ClosedByAgent = "ClosedByAgent",
        /// Closed by the external application (list messages).
        ClosedByExtApp = "ClosedByExtApp",
    }
}

open_enum! {
    /// Whether a chat can start (SE_CHAT_RESPONSE).
    pub enum Signal {
        /// Distributed immediately.
        Free = "Free",
        /// Will probably wait.
        Busy = "Busy",
        /// Closed.
        Closed = "Closed",
        /// Closed, do not advertise.
        Hidden = "Hidden",
    }
}

open_enum! {
    /// The chat channel in FrontStage.
    pub enum ChatType {
        /// Business instant messaging.
        BusinessIm = "BusinessIM",
        /// Social networks.
        SocialIm = "SocialIM",
        /// Web chat.
        WebIm = "WebIM",
    }
}

open_enum! {
    /// A message gateway's direction.
    pub enum Direction {
        /// Inbound.
        Inbound = "I",
        /// Outbound.
        Outbound = "O",
    }
}

open_int_enum! {
    /// How a sentence is interpreted.
    pub enum Model {
        /// Written by a person, shown in the conversation.
        Sentence = 0,
        /// Generated, shown in the conversation.
        TechNote = 2,
        /// Generated, shown statically (the last one only).
        TechPanel = 4,
        /// The counterparty's navigation (a URL).
        Navigation = 6,
        /// Co-browsing data.
        CoBrowsingData = 8,
    }
}

macro_rules! structs {
    ($($(#[$meta:meta])* pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? })*) => {$(
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $( $(#[$fmeta])* #[serde(default)] pub $field: $ty, )*
        }
    )*};
}

structs! {
    /// `ChatServiceInfo`: ES_CHAT_REQUEST, SE_CHAT_RESPONSE, ES_CHAT_START.
    pub struct ChatServiceInfo {
        /// Gateway address (ChatGateway.PeerAddress).
        peer: Option<String>,
        /// Gateway subaddress (ChatGateway.PeerPort).
        port: Option<String>,
        /// The thread's external id.
        tracking_id: Option<String>,
        /// ISO2 culture.
        preferred_culture: Option<String>,
        /// The user in the external system.
        user_token: Option<String>,
        /// External logic result.
        ext_response: Option<String>,
        /// Form data.
        result_model: Option<ScenarioResultInfo>,
        /// The other party's name.
        party_name: Option<String>,
        /// The other party's address (at most 250 characters).
        remote_address: Option<String>,
        /// An existing outbound chat.
        return_chat_id: Option<Guid>,
        /// Whether a chat is possible (SE).
        signal: Option<Signal>,
        /// The form to fill at start (SE).
        scenario_model: Option<ScenarioInfo>,
    }

    /// `ChatStatusInfo`: the state of a chat.
    pub struct ChatStatusInfo {
        /// Gateway address or workplace number.
        peer: Option<String>,
        /// Gateway subaddress.
        port: Option<String>,
        /// The thread's external id.
        tracking_id: Option<String>,
        /// The chat.
        chat_id: Option<Guid>,
        /// Phase.
        status: Option<Status>,
        /// The conversing entity.
        agent_name: Option<String>,
        /// The agent.
        agent_id: Option<Guid>,
        /// The conversation so far (on start, answer, hang-up and resync only).
        sentences: Option<Vec<ChatSentenceInfo>>,
        /// Details for the agent (SC).
        info: Option<ChatInfo>,
        /// The last tech panel.
        panel: Option<ChatSentenceInfo>,
        /// The last navigation.
        navigation: Option<ChatSentenceInfo>,
        /// The last co-browsing data.
        co_browsing_data: Option<ChatSentenceInfo>,
        /// When the chat dies for inactivity.
        dead_time_utc: Option<UtcTime>,
    }

    /// `ChatInfo`: details sent to the agent.
    pub struct ChatInfo {
        /// When sent.
        time_stamp: Option<UtcTime>,
        /// When distribution started.
        enqueueing_time_utc: Option<UtcTime>,
        /// Pilot dial time.
        pilot_dial_time: Option<UtcTime>,
        /// Channel.
        chat_type: Option<ChatType>,
        /// Counterparty name.
        remote_party_name: Option<String>,
        /// Counterparty address.
        remote_address: Option<String>,
        /// Workplace number.
        workplace_number: Option<String>,
        /// Workplace.
        workplace_id: Option<Guid>,
        /// Agent.
        agent_id: Option<Guid>,
        /// Project.
        project_id: Option<Guid>,
        /// Language.
        language_id: Option<Guid>,
        /// Project name.
        project_name: Option<String>,
        /// Language name.
        language_name: Option<String>,
        /// Agent name.
        agent_name: Option<String>,
        /// Seconds waited.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        waiting_time: i64,
        /// Longest signalling to the agent.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        max_signal_duration: i64,
        /// Inbound gateway name.
        chat_gateway_name: Option<String>,
        /// Contact.
        contact_id: Option<Guid>,
        /// Contact name.
        contact_name: Option<String>,
        /// Form data.
        scenarios: Option<Vec<ScenarioResultItemInfo>>,
        /// Form data id.
        form_data_id: Option<Guid>,
    }

    /// `ScenarioResultItemInfo`.
    pub struct ScenarioResultItemInfo {
        /// Scenario.
        scenario_id: Option<Guid>,
        /// Name.
        scenario_name: Option<String>,
        /// Activity.
        activity: Option<String>,
        /// Result.
        result_id: Option<Guid>,
        /// Remote name.
        remote_name: Option<String>,
        /// Display name.
        display_name: Option<String>,
        /// Created.
        result_created: Option<UtcTime>,
        /// Show in list.
        show_in_list: Option<String>,
    }

    /// `ChatSentenceInfo`: one message.
    pub struct ChatSentenceInfo {
        /// Gateway address or workplace number.
        peer: Option<String>,
        /// Gateway subaddress.
        port: Option<String>,
        /// The thread's external id.
        tracking_id: Option<String>,
        /// The chat (CS/SC).
        chat_id: Option<Guid>,
        /// Message id (at most 64 characters); a retry re-sends the same id.
        #[serde(rename = "ID")]
        id: Option<String>,
        /// How the party is named.
        party_name: Option<String>,
        /// The text.
        text: Option<String>,
        /// When sent.
        time_sent: Option<UtcTime>,
        /// Direction.
        is_outbound: bool,
        /// Sequence number.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        counter: i64,
        /// When the other side confirmed it.
        confirmed_time: Option<UtcTime>,
        /// Interpretation.
        model: Option<Model>,
    }

    /// `ChatCommandInfo`: stop, typing, confirm, resync, status.
    pub struct ChatCommandInfo {
        /// Gateway address or workplace number.
        peer: Option<String>,
        /// Gateway subaddress.
        port: Option<String>,
        /// The thread's external id.
        tracking_id: Option<String>,
        /// The chat.
        chat_id: Option<Guid>,
        /// A message id (confirmations).
        #[serde(rename = "ID")]
        id: Option<String>,
        /// When.
        time_stamp: Option<UtcTime>,
        /// The agent.
        agent_id: Option<Guid>,
        /// Typing indication (ES/SE/CS/SC_CHAT_TYPING).
        is_typing: Option<bool>,
    }

    /// `ScenarioResultInfo`: filled-in form data.
    pub struct ScenarioResultInfo {
        /// Scenario.
        scenario_id: Option<Guid>,
        /// Result.
        scenario_result_id: Option<Guid>,
        /// When.
        time_utc: Option<UtcTime>,
        /// Values.
        values: Option<Vec<ScenarioResultValueInfo>>,
        /// Agent.
        agent_id: Option<Guid>,
        /// Inbound call.
        inbound_call_id: Option<Guid>,
        /// Outbound call.
        outbound_call_id: Option<Guid>,
        /// Message.
        message_id: Option<Guid>,
        /// Issue.
        issue_id: Option<Guid>,
        /// Contact.
        contact_id: Option<Guid>,
        /// Chat.
        chat_id: Option<Guid>,
        /// Activity.
        activity: Option<String>,
        /// Workflow.
        workflow_id: Option<Guid>,
    }

    /// `ScenarioResultValueInfo`.
    pub struct ScenarioResultValueInfo {
        /// The control.
        screen_control_id: Option<Guid>,
        /// Number.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        result_number: Option<i64>,
        /// Text.
        result_text: Option<String>,
        /// Decimal (as a JSON number).
        result_numeric: Option<f64>,
        /// Time.
        result_time: Option<UtcTime>,
        /// Target column.
        target_column: Option<String>,
    }

    /// `ScenarioInfo`: a form.
    pub struct ScenarioInfo {
        /// Scenario.
        scenario_id: Option<Guid>,
        /// Title.
        display_name: Option<String>,
        /// Screens.
        screens: Option<Vec<ScreenInfo>>,
        /// Agent.
        agent_id: Option<Guid>,
        /// Culture.
        culture: Option<String>,
    }

    /// `ScreenInfo`.
    pub struct ScreenInfo {
        /// Screen.
        screen_id: Option<Guid>,
        /// Title.
        display_name: Option<String>,
        /// Position.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        rank: i64,
        /// Shows a finish button.
        finish_button: bool,
        /// Condition control.
        condition_screen_control_id: Option<Guid>,
        /// Condition text.
        condition_text: Option<String>,
        /// Controls.
        controls: Option<Vec<ScreenControlInfo>>,
    }

    /// `ScreenControlInfo`.
    pub struct ScreenControlInfo {
        /// Control.
        screen_control_id: Option<Guid>,
        /// Label.
        display_name: Option<String>,
        /// Help.
        description: Option<String>,
        /// Target column.
        target_column: Option<String>,
        /// Position.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        rank: i64,
        /// Type (ScreenControl_ControlType constants).
        control_type: Option<String>,
        /// Default number.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        control_number: Option<i64>,
        /// Default text.
        control_text: Option<String>,
        /// Required.
        mandatory_field: bool,
        /// Choices.
        parameters: Option<Vec<ScreenControlParameterInfo>>,
    }

    /// `ScreenControlParameterInfo`.
    pub struct ScreenControlParameterInfo {
        /// Parameter.
        screen_control_parameter_id: Option<Guid>,
        /// Label.
        display_name: Option<String>,
        /// Position.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        rank: i64,
        /// Number.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        result_number: Option<i64>,
        /// Text.
        result_text: Option<String>,
        /// Default.
        default_item: bool,
    }

    /// `LiteralLookupInfo`: a localized text.
    pub struct LiteralLookupInfo {
        /// Group (102 for WebSite).
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        literal_group: i64,
        /// Value.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        literal_value: i64,
        /// Culture.
        culture: Option<String>,
        /// Text.
        literal_text: Option<String>,
        /// Name.
        display_name: Option<String>,
        /// Gateway address (requests).
        peer: Option<String>,
    }

    /// `WebSiteRoutingInfo`: a routing rule.
    pub struct WebSiteRoutingInfo {
        /// Rule.
        web_site_routing_id: Option<Guid>,
        /// Application.
        web_app: Option<String>,
        /// Position.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        rank: i64,
        /// Page URL pattern.
        page_url_regex: Option<String>,
        /// Culture.
        preferred_culture: Option<String>,
        /// Browser pattern.
        browser_regex: Option<String>,
        /// User token pattern.
        user_token_regex: Option<String>,
        /// Client IP mask.
        client_ip_mask: Option<String>,
        /// Time mode.
        time_mode: Option<String>,
        /// From.
        time_from: Option<UtcTime>,
        /// To.
        time_to: Option<UtcTime>,
        /// Target element.
        #[serde(rename = "TargetElementID")]
        target_element_id: Option<String>,
        /// Web response.
        web_response: Option<String>,
        /// Scenario.
        scenario_id: Option<Guid>,
        /// Outbound list.
        outbound_list_id: Option<Guid>,
        /// Workflow.
        workflow_id: Option<Guid>,
        /// Message.
        message_id: Option<Guid>,
        /// Literal culture.
        literal_culture: Option<String>,
        /// Chat URL tracking.
        #[serde(deserialize_with = "cc_core::de::lenient_i64")]
        chat_track_url: i64,
        /// Log URLs.
        log_url: bool,
        /// Template.
        template: Option<String>,
        /// Blocked.
        block: bool,
        /// Solicitation timeout.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        solicitation_time_out: Option<i64>,
        /// Solicitation duration.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        solicitation_duration: Option<i64>,
        /// Honour-reject period.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        honor_reject_period: Option<i64>,
    }

    /// `GatewayInfo` (`ChatGatewayInfo`): a message gateway.
    pub struct GatewayInfo {
        /// Name.
        display_name: Option<String>,
        /// Address in message routing.
        peer_address: Option<String>,
        /// Not used for messages.
        peer_port: Option<String>,
        /// Connector type and its JSON configuration.
        device: Option<String>,
        /// Channel (ChannelIndex).
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        channel: Option<i64>,
        /// I or O.
        direction: Option<Direction>,
        /// Default language.
        language_id: Option<Guid>,
        /// The gateway.
        id: Option<Guid>,
    }

    /// `MessageContentInfo`: an e-mail, SMS or fax.
    pub struct MessageContentInfo {
        /// External id (at most 80 characters).
        delivery_system_id: Option<String>,
        /// The message it replies to.
        in_reply_to_id: Option<String>,
        /// Outbound correlation.
        message_id: Option<Guid>,
        /// Inbound correlation.
        request_id: Option<String>,
        /// The gateway.
        gateway_id: Option<Guid>,
        /// Sender shown (at most 160 characters).
        from_field: Option<String>,
        /// Address (at most 250 characters).
        remote_address: Option<String>,
        /// To (at most 320 characters).
        to_field: Option<String>,
        /// Cc (at most 320 characters).
        to_cc_field: Option<String>,
        /// Bcc (at most 320 characters).
        to_bcc_field: Option<String>,
        /// I or O.
        direction: Option<Direction>,
        /// Structured recipients.
        extended_fields: Option<String>,
        /// Received or sent (UTC).
        received_sent_time: Option<UtcTime>,
        /// Draft started (UTC).
        draft_time: Option<UtcTime>,
        /// Subject (at most 320 characters).
        subject_field: Option<String>,
        /// HTML body.
        body_html: Option<String>,
        /// Text body.
        body_text: Option<String>,
        /// Culture.
        culture: Option<String>,
        /// Processing mark.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        mark: Option<i64>,
        /// Spam level.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        spam_level: Option<i64>,
        /// Signature validity.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        signature_validity: Option<i64>,
        /// Hierarchy.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        hierarchy: Option<i64>,
        /// Rating.
        #[serde(deserialize_with = "cc_core::de::lenient_opt_i64")]
        rating: Option<i64>,
    }

    /// `CommandInfo`: generic command (SE_MESSAGE_RECEIVED, ES_MESSAGE_SENT, ES_SCENARIO_LOAD).
    pub struct CommandInfo {
        /// MessageId / scenario id.
        id: Option<Guid>,
        /// GatewayId.
        ref_id: Option<Guid>,
        /// When.
        time_stamp: Option<UtcTime>,
        /// RequestId / DeliverySystemId / culture.
        reference: Option<String>,
        /// Success / error text.
        data: Option<String>,
    }
}

/// A field longer than the seed allows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} is {length} characters; at most {limit}")]
pub struct TooLong {
    /// The field.
    pub field: &'static str,
    /// Its length.
    pub length: usize,
    /// The limit.
    pub limit: usize,
}

fn check(field: &'static str, value: &Option<String>, limit: usize) -> Result<(), TooLong> {
    match value {
        Some(v) if v.chars().count() > limit => Err(TooLong { field, length: v.chars().count(), limit }),
        _ => Ok(()),
    }
}

impl ChatSentenceInfo {
    /// The confirmation of this sentence (SE/ES_CHAT_CONFIRM): its gateway, thread, chat and
    /// `ID`, stamped `at`.
    pub fn confirmation(&self, at: UtcTime) -> ChatCommandInfo {
        ChatCommandInfo {
            peer: self.peer.clone(),
            port: self.port.clone(),
            tracking_id: self.tracking_id.clone(),
            chat_id: self.chat_id.clone(),
            id: self.id.clone(),
            time_stamp: Some(at),
            ..ChatCommandInfo::default()
        }
    }

    /// Checks the seed's limit on `ID` (64 characters).
    pub fn validate(&self) -> Result<(), TooLong> {
        check("ID", &self.id, 64)
    }
}

impl ChatServiceInfo {
    /// Checks the seed's limit on `RemoteAddress` (250 characters).
    pub fn validate(&self) -> Result<(), TooLong> {
        check("RemoteAddress", &self.remote_address, 250)
    }
}

impl CommandInfo {
    /// The ES_MESSAGE_SENT answer to an SE_MESSAGE_SENDING: its MessageId and GatewayId
    /// mirrored, the DeliverySystemId the connector registered (at most 80 characters; `None`
    /// leaves the server's draft), and `error` = `None` for success or the failure text the
    /// server stores. Send exactly one per SE_MESSAGE_SENDING, within 90 seconds.
    pub fn message_sent(
        sending: &MessageContentInfo,
        delivery_system_id: Option<String>,
        error: Option<String>,
        now: UtcTime,
    ) -> Result<Self, TooLong> {
        check("DeliverySystemId", &delivery_system_id, 80)?;
        Ok(Self {
            id: sending.message_id.clone(),
            ref_id: sending.gateway_id.clone(),
            time_stamp: Some(now),
            reference: delivery_system_id,
            data: error,
        })
    }

    /// For SE_MESSAGE_RECEIVED: whether the server processed the inbound message (`Data`,
    /// `true`/`false` in any case); `None` when `Data` is neither.
    pub fn processed(&self) -> Option<bool> {
        match self.data.as_deref().map(str::trim) {
            Some(d) if d.eq_ignore_ascii_case("true") => Some(true),
            Some(d) if d.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

impl MessageContentInfo {
    /// Checks the seed's limits: DeliverySystemId 80, FromField 160, RemoteAddress 250,
    /// To/Cc/Bcc 320, SubjectField 320.
    pub fn validate(&self) -> Result<(), TooLong> {
        check("DeliverySystemId", &self.delivery_system_id, 80)?;
        check("FromField", &self.from_field, 160)?;
        check("RemoteAddress", &self.remote_address, 250)?;
        check("ToField", &self.to_field, 320)?;
        check("ToCcField", &self.to_cc_field, 320)?;
        check("ToBccField", &self.to_bcc_field, 320)?;
        check("SubjectField", &self.subject_field, 320)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_times() {
        assert!(Guid::parse("5f0c6a2e-8d1b-4c3a-9e7f-1a2b3c4d5e6f").is_some());
        assert_eq!(
            Guid::parse("{5F0C6A2E-8D1B-4C3A-9E7F-1A2B3C4D5E6F}").unwrap().as_str(),
            "5f0c6a2e-8d1b-4c3a-9e7f-1a2b3c4d5e6f"
        );
        for bad in [
            "",
            "5f0c6a2e8d1b4c3a9e7f1a2b3c4d5e6f",
            "zf0c6a2e-8d1b-4c3a-9e7f-1a2b3c4d5e6f",
            "5f0c6a2e-8d1b-4c3a-9e7f",
        ] {
            assert!(Guid::parse(bad).is_none(), "{bad}");
        }
        let s: ChatSentenceInfo =
            serde_json::from_str(r#"{"ID":"x","TimeSent":"2024-05-01T10:00:00Z","Model":6,"Counter":"3"}"#)
                .unwrap();
        assert_eq!(s.time_sent.unwrap().0.as_i64(), 1_714_557_600_000);
        assert_eq!(s.model, Some(Model::Navigation));
        assert_eq!(s.counter, 3);
        let err = serde_json::from_str::<ChatCommandInfo>(r#"{"ChatId":"nope"}"#).unwrap_err();
        assert!(err.to_string().contains("not a GUID"), "{err}");
    }

    #[test]
    fn message_acknowledgements() {
        let sending = MessageContentInfo {
            message_id: Guid::parse("b7c8d9e0-f1a2-b3c4-d5e6-f708192a3b4c"),
            gateway_id: Guid::parse("a6b7c8d9-e0f1-a2b3-c4d5-e6f708192a3b"),
            ..Default::default()
        };
        let now = UtcTime(EpochMillis::new(1_714_557_600_000));
        let sent = CommandInfo::message_sent(&sending, Some("<id@mail>".into()), None, now).unwrap();
        assert_eq!((&sent.id, &sent.ref_id), (&sending.message_id, &sending.gateway_id));
        assert_eq!((sent.reference.as_deref(), sent.data.as_deref()), (Some("<id@mail>"), None));
        let err = CommandInfo::message_sent(&sending, Some("x".repeat(81)), None, now).unwrap_err();
        assert_eq!(err.to_string(), "DeliverySystemId is 81 characters; at most 80");
        for (data, processed) in
            [(Some("True"), Some(true)), (Some("false"), Some(false)), (Some("?"), None), (None, None)]
        {
            let received = CommandInfo { data: data.map(str::to_owned), ..Default::default() };
            assert_eq!(received.processed(), processed, "{data:?}");
        }
    }

    #[test]
    fn field_limits() {
        let m = MessageContentInfo { subject_field: Some("x".repeat(321)), ..Default::default() };
        assert_eq!(m.validate().unwrap_err().to_string(), "SubjectField is 321 characters; at most 320");
        let s = ChatSentenceInfo { id: Some("é".repeat(64)), ..Default::default() };
        assert!(s.validate().is_ok());
    }
}
