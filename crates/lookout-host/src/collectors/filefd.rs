//! The `filefd` collector: allocated and maximum file handles from `/proc/sys/fs/file-nr`.

use super::{CollectError, CollectResult, Context};
use crate::exposition::{Exposition, Kind};
use crate::procfile;

pub(crate) fn collect(ctx: &Context, out: &mut Exposition) -> CollectResult {
    let text = procfile::read(&ctx.proc("sys/fs/file-nr"))
        .map_err(|e| CollectError::Failed(format!("couldn't get file-nr: {e}")))?;
    let parts: Vec<&str> = text.trim().split('\t').collect();
    if parts.len() < 3 {
        return Err(CollectError::Failed(
            "unexpected number of file stats in file-nr".into(),
        ));
    }
    let allocated = super::parse_f64(parts[0], "file-nr")?;
    let maximum = super::parse_f64(parts[2], "file-nr")?;
    out.single(
        "node_filefd_allocated",
        "File descriptor statistics: allocated.",
        Kind::Gauge,
        allocated,
    );
    out.single(
        "node_filefd_maximum",
        "File descriptor statistics: maximum.",
        Kind::Gauge,
        maximum,
    );
    Ok(())
}
