"""Federation over ActivityPub: the domain side (keys, signatures verified,
the inbox's queue). The JSON-LD shapes and routes are in roost/federation/."""
