//! What is pushed and what a query returns: the storage contract's log types, re-exported.

pub use lookout_storage::logs::{
    Entry, LineFilter, LogQuery, PushStream, QueryDirection, StreamEntries,
};
