"""PostgreSQL: pool, embedded server, migrations, repositories."""
