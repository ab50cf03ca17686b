"""Every new tenant schema gets its "Support" group: view calls and transcripts, change nothing."""
