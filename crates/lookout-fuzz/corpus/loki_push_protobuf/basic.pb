
«
*{job="varlogs", host="pve1", level="info"}.
€¬°"level=info msg="started" took=15msM
¬°#{"level":"error","msg":"disk full"}
trace_idabc
levelwarn
4
{service_name="api"}
ÿ“λά2024 [WARN] slow