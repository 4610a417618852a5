#!/bin/bash
# Lab stand-in for the DBA team's check: exit 0 when this host's database is PRIMARY.
# The real script asks the database (sqlplus with ora_env); the lab reads a role file that
# `lab role <node> <role>` rewrites. keepalived runs it as `oracle` (vrrp_script { user oracle }).
role=$(cat /etc/keepalived/lab-role 2>/dev/null)
[ "$role" = "PRIMARY" ]
