"""A small cluster on one machine: each host in its own Linux network namespace with its own address.

Used by the multi-host tests and by ``make cluster`` (``python -m diemcau.devcluster``). The hosts share the
machine's file system, which stands in for the shared volume (NFS or CephFS in production), and nothing else:
PostgreSQL and Redis run on the data host and are reached over the network, every process runs with its own host
name (``jobs.host_name``) and temporary folder. Root only (``ip netns``).

``topology`` is the pure shape (hosts, addresses, settings per host), ``netns`` the ``ip`` commands, ``services``
the data host's servers, and ``cluster.Cluster`` the one object that owns what is running.
"""
