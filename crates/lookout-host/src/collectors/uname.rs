//! The `uname` collector: `node_uname_info` from the uname(2) system call (of this process's UTS namespace,
//! as node_exporter's).

use super::{CollectResult, Context};
use crate::exposition::{Exposition, Kind};

pub(crate) fn collect(_ctx: &Context, out: &mut Exposition) -> CollectResult {
    let u = rustix::system::uname();
    let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
    let name = "node_uname_info";
    out.header(
        name,
        "Labeled system information as provided by the uname system call.",
        Kind::Gauge,
    );
    out.sample(
        name,
        &[
            ("sysname", &s(u.sysname())),
            ("release", &s(u.release())),
            ("version", &s(u.version())),
            ("machine", &s(u.machine())),
            ("nodename", &s(u.nodename())),
            ("domainname", &s(u.domainname())),
        ],
        1.0,
    );
    Ok(())
}
