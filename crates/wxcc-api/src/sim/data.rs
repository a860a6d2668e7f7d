//! The generated data: tasks (several sharing a millisecond), agent activities, recordings.

use serde_json::{Value, json};

use super::SimConfig;

pub(super) fn uuid(n: u64, salt: u64) -> String {
    let x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ salt;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (x >> 32) as u32,
        (x >> 16) as u16,
        n as u16 & 0xfff,
        (salt as u16) & 0xfff,
        (x & 0xffff_ffff_ffff) ^ n
    )
}

pub(super) const CHANNELS: [&str; 4] = ["telephony", "chat", "email", "social"];
pub(super) const STATUSES: [&str; 6] =
    ["completed", "abandoned", "completed", "assigned", "queued", "completed"];

pub(super) fn generate_tasks(config: &SimConfig) -> Vec<Value> {
    let spacing = i64::try_from(config.task_spacing.as_millis()).unwrap_or(60_000);
    (0..config.tasks as u64)
        .map(|i| {
            let created = config.start.as_i64() + (i / 3) as i64 * spacing;
            let channel = CHANNELS[(i % 4) as usize];
            let status = STATUSES[(i % 6) as usize];
            let mut attributes = json!({
                "queue": {"id": uuid(i % 3, 0x51), "name": format!("Queue {}", i % 3 + 1)},
                "channelType": channel,
                "status": status,
                "createdTime": created,
                "lastUpdatedTime": created + 90_000,
                "captureRequested": channel == "telephony",
                "origin": format!("+1555010{:04}", i % 10_000),
                "destination": "+18005555555",
                "direction": if i % 5 == 0 { "outbound" } else { "inbound" },
            });
            if status != "queued" {
                attributes["owner"] =
                    json!({"id": uuid(i % 7, 0xa6), "name": format!("Agent {}", i % 7 + 1)});
            }
            json!({"id": uuid(i, 0x7a5c), "attributes": attributes})
        })
        .collect()
}

pub(super) fn generate_activities(config: &SimConfig) -> Vec<Value> {
    let spacing = i64::try_from(config.task_spacing.as_millis()).unwrap_or(60_000);
    (0..config.activities as u64)
        .map(|i| {
            let start = config.start.as_i64() + i as i64 * spacing / 2;
            let state = ["available", "connected", "wrapup", "idle"][(i % 4) as usize];
            json!({
                "active": false, "agentId": uuid(i % 7, 0xa6), "agentDn": "5555555",
                "agentLogin": format!("agent{}@example.com", i % 7 + 1),
                "agentSessionId": uuid(i / 20, 0x5e), "agentName": format!("Agent {}", i % 7 + 1),
                "currentState": state, "siteId": "site-0001", "siteName": "Site 1",
                "teamId": uuid(i % 2, 0x7e), "teamName": format!("Team {}", i % 2 + 1), "isLogin": 1,
                "channelId": uuid(i, 0xc4), "channelType": CHANNELS[(i % 4) as usize],
                "idleCode": "", "idleCodeName": if state == "idle" { "Break" } else { "" },
                "startTime": start, "endTime": start + 25_000, "mmProfileType": "blended",
            })
        })
        .collect()
}

pub(super) fn recording_body(task_id: &str) -> Vec<u8> {
    // A valid, silent 8 kHz mono 16-bit WAV of one second, tagged with the task id.
    let samples = 8_000u32;
    let mut out = Vec::with_capacity(44 + samples as usize * 2 + task_id.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + samples * 2).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8_000u32.to_le_bytes());
    out.extend_from_slice(&16_000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples * 2).to_le_bytes());
    out.resize(44 + samples as usize * 2, 0);
    out
}
