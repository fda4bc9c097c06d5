//! The host collector's configuration: node_exporter's `--path.*` roots and the filter flags of its collectors,
//! under keys named after node_exporter's flags (`--collector.filesystem.mount-points-exclude` becomes
//! `filesystem: {mount_points_exclude: …}`). Defaults are node_exporter 1.5.0's upstream defaults.

use serde::Deserialize;

/// node_exporter's default `--collector.filesystem.mount-points-exclude`.
pub const DEFAULT_MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
/// node_exporter's default `--collector.filesystem.fs-types-exclude`.
pub const DEFAULT_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";
/// node_exporter's default `--collector.diskstats.device-exclude`.
pub const DEFAULT_DISKSTATS_DEVICE_EXCLUDE: &str =
    "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$";
/// node_exporter's default `--collector.vmstat.fields`.
pub const DEFAULT_VMSTAT_FIELDS: &str = "^(oom_kill|pgpg|pswp|pg.*fault).*";
/// node_exporter's default `--collector.netstat.fields`.
pub const DEFAULT_NETSTAT_FIELDS: &str = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

/// Everything the host collector can be told.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostOptions {
    /// procfs mount point (`--path.procfs`), default `/proc`.
    pub proc_root: String,
    /// sysfs mount point (`--path.sysfs`), default `/sys`.
    pub sys_root: String,
    /// Where the host's root filesystem is mounted (`--path.rootfs`), default `/`.
    pub rootfs: String,
    /// udev's database (`--path.udev.data`), default `/run/udev/data`; feeds `node_disk_info`'s labels.
    pub udev_data_path: String,
    /// The filesystem collector's exclusions.
    pub filesystem: FilesystemOptions,
    /// The diskstats collector's device filter.
    pub diskstats: DeviceFilterOptions,
    /// The netdev collector's device filter.
    pub netdev: DeviceFilterOptions,
    /// The vmstat collector's field regex.
    pub vmstat: FieldsOptions,
    /// The netstat collector's field regex.
    pub netstat: FieldsOptions,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            proc_root: "/proc".into(),
            sys_root: "/sys".into(),
            rootfs: "/".into(),
            udev_data_path: "/run/udev/data".into(),
            filesystem: FilesystemOptions::default(),
            diskstats: DeviceFilterOptions::default(),
            netdev: DeviceFilterOptions::default(),
            vmstat: FieldsOptions::default(),
            netstat: FieldsOptions::default(),
        }
    }
}

/// `--collector.filesystem.*`: which mounts are not reported.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesystemOptions {
    /// Regex of mount points to skip.
    pub mount_points_exclude: String,
    /// Regex of filesystem types to skip.
    pub fs_types_exclude: String,
    /// How long statfs may take before the mount is marked unresponsive (node_exporter's `mount-timeout`, 5s).
    pub mount_timeout: lookout_model::PromDuration,
}

impl Default for FilesystemOptions {
    fn default() -> Self {
        FilesystemOptions {
            mount_points_exclude: DEFAULT_MOUNT_POINTS_EXCLUDE.into(),
            fs_types_exclude: DEFAULT_FS_TYPES_EXCLUDE.into(),
            mount_timeout: lookout_model::PromDuration::from_secs(5),
        }
    }
}

/// `--collector.<name>.device-exclude` / `device-include` (mutually exclusive, as in node_exporter).
/// `None` means the collector's default: diskstats excludes [`DEFAULT_DISKSTATS_DEVICE_EXCLUDE`] unless an include
/// regex is given; netdev filters nothing. An empty string means no regex.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeviceFilterOptions {
    /// Regex of devices to skip.
    pub device_exclude: Option<String>,
    /// Regex of the only devices to report.
    pub device_include: Option<String>,
}

/// `--collector.<name>.fields`: which fields of the file become metrics. `None` means node_exporter's default.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldsOptions {
    /// Regex matched (unanchored, as Go's `MatchString`) against each field name.
    pub fields: Option<String>,
}
