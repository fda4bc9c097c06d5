
ä
P{app="api", env="prod", namespace="default", pod="api-7d9f-x2", container="api"}4
€˜¬°*ts=0 level=info msg="request 0" status=2004
˜¬°*ts=1 level=warn msg="request 1" status=2015
‚˜¬°+ts=2 level=error msg="request 2" status=2025
ƒ˜¬°+ts=3 level=debug msg="request 3" status=2034
„˜¬°*ts=4 level=info msg="request 4" status=2044
…˜¬°*ts=5 level=warn msg="request 5" status=2055
†˜¬°+ts=6 level=error msg="request 6" status=2065
‡˜¬°+ts=7 level=debug msg="request 7" status=2074
ˆ˜¬°*ts=8 level=info msg="request 8" status=2084
‰˜¬°*ts=9 level=warn msg="request 9" status=2097
Š˜¬°-ts=10 level=error msg="request 10" status=2107
‹˜¬°-ts=11 level=debug msg="request 11" status=211