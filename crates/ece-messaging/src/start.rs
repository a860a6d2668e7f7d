//! Building a start-conversation request, validated before anything is sent.

use crate::error::Error;
use crate::model::{
    Activity, AttribValues, ChatPayload, ClientInfo, Contact, Contacts, CustomAttribute, CustomAttributes,
    Customer, DateRef, Email, EntryPointId, EntryPointRef, IdRef, Payload, Social, StartRequest, ValueRef,
};

/// Query parameters of a start request (`searchContactOnAttribute`, `anonymousCustomer`,
/// `sendTypingNotification`).
pub type StartQuery = Vec<(&'static str, String)>;

/// Longest subject ECE accepts.
pub const MAX_SUBJECT_CHARS: usize = 255;

/// How ECE finds (or creates) the customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerLookup {
    /// By e-mail: `searchContactOnAttribute=email.emailAddress`.
    Email(String),
    /// By another attribute, e.g. `social.instagramId` with the Instagram id.
    Social {
        /// The lookup attribute (`social.instagramId`).
        attribute: String,
        /// The network (`instagram`).
        network: String,
        /// The id on that network.
        id: String,
    },
    /// No customer: `anonymousCustomer=yes`.
    Anonymous,
}

/// A start-conversation request; see [`EceClient::start`](crate::client::EceClient::start).
///
/// ```
/// use ece_messaging::start::{StartConversation, CustomerLookup};
/// let start = StartConversation::new("1001", CustomerLookup::Email("ada@example.com".into()))
///     .names("Ada", "Lovelace")
///     .subject("Order 1234")
///     .attribute("activity_test_string1", "Test String Value")
///     .typing_notifications(true);
/// let (query, body) = start.build("2023-06-16T10:25:13.000Z").unwrap();
/// assert_eq!(query, [("searchContactOnAttribute", "email.emailAddress".to_string()), ("sendTypingNotification", "yes".to_string())]);
/// assert_eq!(body.activity.subject.as_deref(), Some("Order 1234"));
/// assert!(StartConversation::new("1001", CustomerLookup::Anonymous).attribute("a", "1+1").build("d").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartConversation {
    entry_point: EntryPointId,
    customer: CustomerLookup,
    first_name: Option<String>,
    last_name: Option<String>,
    subject: Option<String>,
    attributes: Vec<(String, Vec<String>)>,
    referrer_name: Option<String>,
    referrer_url: Option<String>,
    typing: bool,
}

impl StartConversation {
    /// A conversation on `entry_point` for `customer`.
    pub fn new(entry_point: impl Into<EntryPointId>, customer: CustomerLookup) -> Self {
        Self {
            entry_point: entry_point.into(),
            customer,
            first_name: None,
            last_name: None,
            subject: None,
            attributes: Vec::new(),
            referrer_name: None,
            referrer_url: None,
            typing: false,
        }
    }

    /// The entry point.
    pub fn entry_point(&self) -> &EntryPointId {
        &self.entry_point
    }

    /// The customer's names.
    pub fn names(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = Some(first.into());
        self.last_name = Some(last.into());
        self
    }

    /// The subject (at most 255 characters).
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// A custom attribute with one value (call again for more values of the same name).
    pub fn attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        match self.attributes.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.into()),
            None => self.attributes.push((name, vec![value.into()])),
        }
        self
    }

    /// Where the customer came from.
    pub fn referrer(mut self, name: impl Into<String>, url: impl Into<String>) -> Self {
        self.referrer_name = Some(name.into());
        self.referrer_url = Some(url.into());
        self
    }

    /// Ask ECE to send the agent's startTyping/endTyping to the webhook (off by default).
    pub fn typing_notifications(mut self, on: bool) -> Self {
        self.typing = on;
        self
    }

    /// Checks the subject length and the custom attribute characters.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(subject) = &self.subject {
            let chars = subject.chars().count();
            if chars > MAX_SUBJECT_CHARS {
                return Err(Error::Invalid {
                    field: "subject".into(),
                    reason: format!("{chars} characters; at most {MAX_SUBJECT_CHARS}"),
                });
            }
        }
        for (name, values) in &self.attributes {
            for value in values {
                validate_attribute_value(name, value)?;
            }
        }
        Ok(())
    }

    /// Checks the request ([`StartConversation::validate`]) and builds the query parameters
    /// and the body for `last_modified` (the entry point's `lastModified.date`).
    pub fn build(&self, last_modified: &str) -> Result<(StartQuery, StartRequest), Error> {
        self.validate()?;
        let mut query = Vec::new();
        let customer = match &self.customer {
            CustomerLookup::Email(address) => {
                query.push(("searchContactOnAttribute", "email.emailAddress".to_string()));
                Some(self.customer(Contact {
                    email: vec![Email { email_address: address.clone() }],
                    ..Contact::default()
                }))
            }
            CustomerLookup::Social { attribute, network, id } => {
                query.push(("searchContactOnAttribute", attribute.clone()));
                Some(self.customer(Contact {
                    social: vec![Social { kind: ValueRef { value: network.clone() }, social_id: id.clone() }],
                    ..Contact::default()
                }))
            }
            CustomerLookup::Anonymous => {
                query.push(("anonymousCustomer", "yes".to_string()));
                None
            }
        };
        if self.typing {
            query.push(("sendTypingNotification", "yes".to_string()));
        }
        let custom_attributes = (!self.attributes.is_empty()).then(|| CustomAttributes {
            custom_attribute: self
                .attributes
                .iter()
                .map(|(name, values)| CustomAttribute {
                    attrib_name: name.clone(),
                    attrib_values: AttribValues {
                        attrib_value: values.iter().map(|v| ValueRef { value: v.clone() }).collect(),
                    },
                })
                .collect(),
        });
        let payload = (self.referrer_name.is_some() || self.referrer_url.is_some()).then(|| Payload {
            chat: ChatPayload {
                client_info: ClientInfo {
                    referrer_name: self.referrer_name.clone(),
                    referrer_url: self.referrer_url.clone(),
                },
            },
        });
        let body = StartRequest {
            entry_point_configuration: EntryPointRef {
                entry_point: IdRef { id: self.entry_point.clone() },
                last_modified: DateRef { date: last_modified.to_owned() },
            },
            activity: Activity { subject: self.subject.clone(), custom_attributes, payload, customer },
        };
        Ok((query, body))
    }

    fn customer(&self, mut contact: Contact) -> Customer {
        contact.first_name = self.first_name.clone();
        contact.last_name = self.last_name.clone();
        Customer {
            kind: ValueRef { value: "individual".into() },
            contacts: Contacts { contact: vec![contact] },
        }
    }
}

/// ECE accepts in custom attribute values: `a–z A–Z 0–9`, space, `@ : . _ - & , ( ) ? # = ' "`
/// and any character above ASCII 128. The error names the first other character.
pub fn validate_attribute_value(name: &str, value: &str) -> Result<(), Error> {
    const ALLOWED: &str = "@ :._-&,()?#='\"";
    match value
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || ALLOWED.contains(*c) || (*c as u32) > 128))
    {
        None => Ok(()),
        Some((position, c)) => Err(Error::Invalid {
            field: format!("custom attribute `{name}`"),
            reason: format!("character {c:?} (U+{:04X}) at position {position} is not allowed", c as u32),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_characters() {
        assert!(
            validate_attribute_value("a", "Test String Value @ 10:30, (ok)? #1 = 'x' & \"y\" _-.").is_ok()
        );
        assert!(validate_attribute_value("a", "Zoë — ünïcödé ✓").is_ok());
        let err = validate_attribute_value("activity_test_string1", "1+1").unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid custom attribute `activity_test_string1`: character '+' (U+002B) at position 1 is not allowed"
        );
        for bad in ["a/b", "a;b", "tab\there", "new\nline", "100%", "a*b"] {
            assert!(validate_attribute_value("n", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn subject_length_counts_characters() {
        let ok = StartConversation::new("1", CustomerLookup::Anonymous).subject("é".repeat(255));
        assert!(ok.build("d").is_ok());
        let long = StartConversation::new("1", CustomerLookup::Anonymous).subject("x".repeat(256));
        assert!(long.build("d").unwrap_err().to_string().contains("256 characters"));
    }

    #[test]
    fn lookups_set_query_and_customer() {
        let (q, body) = StartConversation::new(
            "1001",
            CustomerLookup::Social {
                attribute: "social.instagramId".into(),
                network: "instagram".into(),
                id: "ada_l".into(),
            },
        )
        .build("d")
        .unwrap();
        assert_eq!(q, [("searchContactOnAttribute", "social.instagramId".to_string())]);
        assert_eq!(body.activity.customer.unwrap().contacts.contact[0].social[0].social_id, "ada_l");
        let (q, body) = StartConversation::new("1001", CustomerLookup::Anonymous).build("d").unwrap();
        assert_eq!(q, [("anonymousCustomer", "yes".to_string())]);
        assert!(body.activity.customer.is_none());
    }
}
