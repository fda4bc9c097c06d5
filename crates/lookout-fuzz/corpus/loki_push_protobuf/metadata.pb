
§
{job="syslog", severity="err"}„
€˜¬°3<11>1 2024-04-01T00:00:00Z pve1 sshd 123 - - failed,
trace_id 0af7651916cd43dd8448eb211c80319c
detected_levelerror