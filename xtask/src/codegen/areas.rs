//! Which feature of `wxcc-api` an operation belongs to: by its tag, except the operations of
//! today's reporting surface, which stay in the default `reporting` area whatever their tag.

/// Features, in the order the docs list them.
/// Features and what they hold (the crate's Cargo.toml documents the same).
pub const AREAS: &[(&str, &str)] = &[
    ("reporting", "tasks list, statistics, agent activities, captures, sites, search (default)"),
    ("agents", "agent session, state and wellbeing, greetings, monitoring"),
    ("tasks", "task creation and call control, callbacks, estimated wait time"),
    ("config", "queues, entry points, users, teams, skills, codes, profiles, numbers, flows"),
    ("campaigns", "campaign manager, contact lists, do-not-call lists"),
    ("journey", "journey profiles, identities, actions, workspaces, events"),
    ("ai", "AI features, auto CSAT, generated and agent summaries"),
    ("events", "subscriptions and notifications"),
];

/// The area of each tag.
const TAGS: &[(&str, &str)] = &[
    ("Agent Personal Greeting Files", "agents"),
    ("Agent Wellbeing", "agents"),
    ("Agents", "agents"),
    ("Call Monitoring", "agents"),
    ("Tasks", "tasks"),
    ("Callbacks", "tasks"),
    ("Estimated Wait Time", "tasks"),
    ("Captures", "reporting"),
    ("Search", "reporting"),
    ("Queues", "reporting"),
    ("Site", "reporting"),
    ("Address Book", "config"),
    ("Audio Files", "config"),
    ("Auxiliary Code", "config"),
    ("Business Hour", "config"),
    ("Contact Number", "config"),
    ("Contact Service Queue", "config"),
    ("Data Sources", "config"),
    ("Desktop Layout", "config"),
    ("Desktop Profile", "config"),
    ("Dial Number", "config"),
    ("Dial Plan", "config"),
    ("Entry Point", "config"),
    ("Flow", "config"),
    ("Global Variables", "config"),
    ("Holiday List", "config"),
    ("Multimedia Profile", "config"),
    ("Outdial ANI", "config"),
    ("Overrides", "config"),
    ("Resource Collection", "config"),
    ("Skill", "config"),
    ("Skill Profile", "config"),
    ("Team", "config"),
    ("User Profiles", "config"),
    ("Users", "config"),
    ("Work Types", "config"),
    ("Campaign Manager", "campaigns"),
    ("Contact List Management", "campaigns"),
    ("DNC Management", "campaigns"),
    ("Journey - Customer Identification API", "journey"),
    ("Journey - Data Ingestion API", "journey"),
    ("Journey - Profile Creation & Insights API", "journey"),
    ("Journey - Subscription API", "journey"),
    ("Journey - Trigger Actions API", "journey"),
    ("Journey - Workspace management API", "journey"),
    ("AI Feature", "ai"),
    ("Agent Summaries", "ai"),
    ("Auto CSAT", "ai"),
    ("Generated Summaries", "ai"),
    ("Notification", "events"),
    ("Realtime", "events"),
    ("Subscriptions", "events"),
];

/// Operations of today's surface (method, path) kept in `reporting` though their tag is
/// elsewhere: the task list and the agent statistics and activities.
const REPORTING: &[(&str, &str)] =
    &[("get", "/v1/tasks"), ("get", "/v1/agents/statistics"), ("get", "/v1/agents/activities")];

/// The area of an operation, or `None` for a tag this table does not know (the generator
/// then fails: a new tag needs a decision).
pub fn area(tag: &str, method: &str, path: &str) -> Option<&'static str> {
    if REPORTING.contains(&(method, path)) {
        return Some("reporting");
    }
    TAGS.iter().find(|(t, _)| *t == tag).map(|(_, area)| *area)
}
