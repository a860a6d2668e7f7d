//! A webhook sender that signs notifications as LivePerson does (feature `sim`).
