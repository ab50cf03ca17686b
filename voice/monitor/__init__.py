"""The live monitor of a tenant's calls in progress, for its staff.

Every call of a tenant publishes what happens in it (`events`, sent by `CallMonitor`) to the
tenant's staff group on the channel layer; a staff member's admin pages listen on `/ws/staff/`
(`consumer`), let in by their admin session on the tenant's own host (`access`, `middleware`).
The "Live calls" admin page (`views`) shows the calls in progress; every admin page of the
tenant raises an alert when a call is handed over to a person.
"""
