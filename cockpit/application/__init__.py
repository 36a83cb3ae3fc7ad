"""The application layer: every user action defined once, between {domain, store,
integrations} below and {ui, cli} above. `build` makes the services from the settings;
`actions` holds the playbook's actions; `sender` and `runtime` send the outbox and run
the feed; `delivery` sends one incident's outbox for a command that waits."""
