#!/bin/bash
# Lab stand-in for the DBA team's check: exit 0 when this host's database is PHYSICAL STANDBY.
# See primary_check.sh.
role=$(cat /etc/keepalived/lab-role 2>/dev/null)
[ "$role" = "PHYSICAL STANDBY" ]
