namespace Assay.Engine.Store;

/// <summary>
/// Versioned schema. Each migration is a list of statements applied in one transaction together
/// with its row in <c>schema_migrations</c>, so a migration is either fully applied or not at all
/// and re-running is a no-op. Type placeholders ({ID} {INT} {REAL}) are filled by the dialect;
/// flags are integers 0/1 on both backends so the statements stay identical.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string[] Statements)> All =
    [
        (1, [
            """
            CREATE TABLE namespaces (
                name TEXT PRIMARY KEY,
                created_at {REAL} NOT NULL)
            """,
            "INSERT INTO namespaces (name, created_at) VALUES ('main', @now) ON CONFLICT (name) DO NOTHING",
            """
            CREATE TABLE workflows (
                id TEXT PRIMARY KEY,
                namespace TEXT NOT NULL DEFAULT 'main',
                run_id TEXT NOT NULL,
                workflow_type TEXT NOT NULL,
                task_queue TEXT NOT NULL DEFAULT 'main',
                status TEXT NOT NULL DEFAULT 'PENDING',
                input TEXT,
                result TEXT,
                error TEXT,
                parent_id TEXT,
                origin_id TEXT,
                claimed_by TEXT,
                search_attributes TEXT,
                archived_at {REAL},
                archive_uri TEXT,
                next_event_seq {INT} NOT NULL DEFAULT 1,
                needs_dispatch {INT} NOT NULL DEFAULT 0,
                dispatch_ready_at {REAL},
                lease_owner TEXT,
                lease_token TEXT,
                lease_expires_at {REAL},
                cancel_requested {INT} NOT NULL DEFAULT 0,
                continued_from TEXT,
                continued_to TEXT,
                created_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                completed_at {REAL})
            """,
            // Workflow-task claim: FIFO by the time the workflow became dispatchable.
            "CREATE INDEX ix_workflows_dispatch ON workflows (task_queue, dispatch_ready_at) WHERE needs_dispatch = 1 AND lease_owner IS NULL",
            "CREATE INDEX ix_workflows_lease ON workflows (lease_expires_at) WHERE lease_owner IS NOT NULL",
            "CREATE INDEX ix_workflows_ns_created ON workflows (namespace, created_at)",
            "CREATE INDEX ix_workflows_parent ON workflows (parent_id)",
            """
            CREATE TABLE workflow_events (
                id {ID},
                workflow_id TEXT NOT NULL REFERENCES workflows (id),
                seq {INT} NOT NULL,
                event_type TEXT NOT NULL,
                payload TEXT,
                timestamp {REAL} NOT NULL,
                UNIQUE (workflow_id, seq))
            """,
            """
            CREATE TABLE workflow_activities (
                id {ID},
                workflow_id TEXT NOT NULL REFERENCES workflows (id),
                seq {INT} NOT NULL,
                name TEXT NOT NULL,
                task_queue TEXT NOT NULL DEFAULT 'main',
                input TEXT,
                status TEXT NOT NULL DEFAULT 'PENDING',
                result TEXT,
                error TEXT,
                attempt {INT} NOT NULL DEFAULT 1,
                max_attempts {INT} NOT NULL DEFAULT 3,
                initial_interval_secs {REAL} NOT NULL DEFAULT 1,
                backoff_coefficient {REAL} NOT NULL DEFAULT 2,
                max_interval_secs {REAL},
                start_to_close_secs {REAL} NOT NULL DEFAULT 300,
                heartbeat_timeout_secs {REAL},
                non_retryable_errors TEXT,
                claimed_by TEXT,
                scheduled_at {REAL} NOT NULL,
                started_at {REAL},
                completed_at {REAL},
                last_heartbeat {REAL},
                heartbeat_details TEXT,
                timeout_at {REAL},
                UNIQUE (workflow_id, seq))
            """,
            // Activity claim honours the retry due time (scheduled_at <= now).
            "CREATE INDEX ix_activities_claim ON workflow_activities (task_queue, scheduled_at) WHERE status = 'PENDING'",
            "CREATE INDEX ix_activities_timeout ON workflow_activities (timeout_at) WHERE status = 'RUNNING'",
            "CREATE INDEX ix_activities_queue_status ON workflow_activities (task_queue, status)",
            """
            CREATE TABLE workflow_timers (
                id {ID},
                workflow_id TEXT NOT NULL REFERENCES workflows (id),
                seq {INT} NOT NULL,
                fire_at {REAL} NOT NULL,
                fired {INT} NOT NULL DEFAULT 0,
                UNIQUE (workflow_id, seq))
            """,
            "CREATE INDEX ix_timers_due ON workflow_timers (fire_at) WHERE fired = 0",
            """
            CREATE TABLE workflow_signals (
                id {ID},
                workflow_id TEXT NOT NULL REFERENCES workflows (id),
                name TEXT NOT NULL,
                payload TEXT,
                consumed {INT} NOT NULL DEFAULT 0,
                received_at {REAL} NOT NULL)
            """,
            "CREATE INDEX ix_signals_workflow ON workflow_signals (workflow_id, name, consumed)",
            // Side effects are idempotent on (workflow, seq): a stale duplicate is dropped.
            """
            CREATE TABLE workflow_side_effects (
                workflow_id TEXT NOT NULL REFERENCES workflows (id),
                seq {INT} NOT NULL,
                PRIMARY KEY (workflow_id, seq))
            """,
            """
            CREATE TABLE workflow_snapshots (
                workflow_id TEXT NOT NULL REFERENCES workflows (id),
                event_seq {INT} NOT NULL,
                state_json TEXT,
                created_at {REAL} NOT NULL,
                PRIMARY KEY (workflow_id, event_seq))
            """,
            """
            CREATE TABLE workflow_schedules (
                name TEXT NOT NULL,
                namespace TEXT NOT NULL DEFAULT 'main',
                workflow_type TEXT NOT NULL,
                cron_expr TEXT NOT NULL,
                timezone TEXT NOT NULL DEFAULT 'UTC',
                input TEXT,
                task_queue TEXT NOT NULL DEFAULT 'main',
                overlap_policy TEXT NOT NULL DEFAULT 'skip',
                paused {INT} NOT NULL DEFAULT 0,
                last_run_at {REAL},
                next_run_at {REAL},
                last_workflow_id TEXT,
                created_at {REAL} NOT NULL,
                PRIMARY KEY (namespace, name))
            """,
            """
            CREATE TABLE workflow_workers (
                id TEXT PRIMARY KEY,
                namespace TEXT NOT NULL DEFAULT 'main',
                identity TEXT NOT NULL,
                task_queue TEXT NOT NULL,
                workflows TEXT,
                activities TEXT,
                max_concurrent_workflows {INT} NOT NULL DEFAULT 10,
                max_concurrent_activities {INT} NOT NULL DEFAULT 10,
                active_tasks {INT} NOT NULL DEFAULT 0,
                last_heartbeat {REAL} NOT NULL,
                registered_at {REAL} NOT NULL)
            """,
            "CREATE INDEX ix_workers_namespace ON workflow_workers (namespace, registered_at)",
            """
            CREATE TABLE api_keys (
                key_hash TEXT PRIMARY KEY,
                prefix TEXT NOT NULL,
                label TEXT,
                created_at {REAL} NOT NULL)
            """,
            // Leader election for cluster-wide singletons (cron scheduler, archiver): a lease row.
            """
            CREATE TABLE engine_leases (
                name TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                expires_at {REAL} NOT NULL)
            """,
            // SQLite single-instance marker (informational; the OS file lock enforces it).
            """
            CREATE TABLE engine_lock (
                id {INT} PRIMARY KEY CHECK (id = 1),
                instance_id TEXT NOT NULL,
                started_at {REAL} NOT NULL,
                last_heartbeat {REAL} NOT NULL)
            """,
        ]),
        (2, [
            // Schedules: catch-up window and the buffer of occurrences waiting for the running one (JSON array of times).
            "ALTER TABLE workflow_schedules ADD COLUMN catchup_window_secs {REAL} NOT NULL DEFAULT 60",
            "ALTER TABLE workflow_schedules ADD COLUMN buffered TEXT",
            "CREATE INDEX ix_schedules_due ON workflow_schedules (next_run_at) WHERE paused = 0",
            // API keys: revocation (kept for the audit trail) and last use.
            "ALTER TABLE api_keys ADD COLUMN revoked_at {REAL}",
            // Retention per namespace (seconds after completion; null = keep forever).
            "ALTER TABLE namespaces ADD COLUMN retention_secs {REAL}",
            "CREATE INDEX ix_workflows_completed ON workflows (namespace, completed_at) WHERE completed_at IS NOT NULL",
        ]),
        (3, [
            // Released tasks (POST …/release): the releasing worker is not offered the task again until until_at,
            // so a worker lacking the task's type neither spins on it nor delays the workers that have it.
            """
            CREATE TABLE workflow_task_releases (
                workflow_id TEXT NOT NULL,
                worker_id TEXT NOT NULL,
                until_at {REAL} NOT NULL,
                PRIMARY KEY (workflow_id, worker_id))
            """,
            """
            CREATE TABLE activity_releases (
                activity_id {INT} NOT NULL,
                worker_id TEXT NOT NULL,
                until_at {REAL} NOT NULL,
                PRIMARY KEY (activity_id, worker_id))
            """,
            "CREATE INDEX ix_workflow_task_releases_until ON workflow_task_releases (until_at)",
            "CREATE INDEX ix_activity_releases_until ON activity_releases (until_at)",
            // The last task of the workflow a worker handed back for lacking its type (describe, dashboard).
            "ALTER TABLE workflows ADD COLUMN unhandled_kind TEXT",
            "ALTER TABLE workflows ADD COLUMN unhandled_name TEXT",
            "ALTER TABLE workflows ADD COLUMN unhandled_queue TEXT",
            "ALTER TABLE workflows ADD COLUMN unhandled_by TEXT",
            "ALTER TABLE workflows ADD COLUMN unhandled_at {REAL}",
        ]),
        (4, [
            // Lease-bound claims (docs/engine.md "Lease tokens"): reports on them must carry the claim's token.
            // Activities get a token per attempt, like workflow tasks have had one per lease.
            "ALTER TABLE workflows ADD COLUMN lease_bound {INT} NOT NULL DEFAULT 0",
            "ALTER TABLE workflow_activities ADD COLUMN lease_token TEXT",
            "ALTER TABLE workflow_activities ADD COLUMN lease_bound {INT} NOT NULL DEFAULT 0",
        ]),
        (5, [
            // Type-aware dispatch (docs/engine.md "Type-aware dispatch"): a poll that lists its types claims the head of
            // each type's FIFO through these, instead of walking the queue past tasks of types it lacks.
            "CREATE INDEX ix_workflows_dispatch_type ON workflows (task_queue, workflow_type, dispatch_ready_at) WHERE needs_dispatch = 1 AND lease_owner IS NULL",
            "CREATE INDEX ix_activities_claim_name ON workflow_activities (task_queue, name, scheduled_at) WHERE status = 'PENDING'",
            // The types each registered worker runs, per kind ('workflow' / 'activity') and queue; name '' = any type
            // (a registration without that list). Rows go with their worker: whether a live worker serves a task's type.
            """
            CREATE TABLE workflow_worker_types (
                kind TEXT NOT NULL,
                task_queue TEXT NOT NULL,
                name TEXT NOT NULL,
                worker_id TEXT NOT NULL,
                PRIMARY KEY (kind, task_queue, name, worker_id))
            """,
            "CREATE INDEX ix_worker_types_worker ON workflow_worker_types (worker_id)",
            // Workers registered before this migration keep being counted as serving anything until they re-register.
            "INSERT INTO workflow_worker_types (kind, task_queue, name, worker_id) SELECT 'workflow', task_queue, '', id FROM workflow_workers",
            "INSERT INTO workflow_worker_types (kind, task_queue, name, worker_id) SELECT 'activity', task_queue, '', id FROM workflow_workers",
        ]),
        (6, [
            // Priorities (docs/engine.md "Priorities and rate limits"): 1 = highest … 5, default 3. The claim indexes lead
            // with (queue, priority) so a claim — highest priority first, FIFO within one — stays one index scan.
            "ALTER TABLE workflows ADD COLUMN priority {INT} NOT NULL DEFAULT 3",
            "ALTER TABLE workflow_activities ADD COLUMN priority {INT} NOT NULL DEFAULT 3",
            "DROP INDEX ix_workflows_dispatch",
            "CREATE INDEX ix_workflows_dispatch ON workflows (task_queue, priority, dispatch_ready_at) WHERE needs_dispatch = 1 AND lease_owner IS NULL",
            "DROP INDEX ix_activities_claim",
            "CREATE INDEX ix_activities_claim ON workflow_activities (task_queue, priority, scheduled_at, id) WHERE status = 'PENDING'",
            // The per-type heads of type-aware dispatch (migration 5) follow the same order within one type.
            "DROP INDEX ix_workflows_dispatch_type",
            "CREATE INDEX ix_workflows_dispatch_type ON workflows (task_queue, workflow_type, priority, dispatch_ready_at) WHERE needs_dispatch = 1 AND lease_owner IS NULL",
            "DROP INDEX ix_activities_claim_name",
            "CREATE INDEX ix_activities_claim_name ON workflow_activities (task_queue, name, priority, scheduled_at) WHERE status = 'PENDING'",
            // Queue settings: the activity rate limit and its token bucket. The bucket lives here, updated in the claim
            // transaction under the row's lock, so the limit holds across every worker and every engine on the database.
            """
            CREATE TABLE task_queues (
                name TEXT PRIMARY KEY,
                max_activities_per_second {REAL},
                tokens {REAL} NOT NULL DEFAULT 0,
                tokens_at {REAL} NOT NULL DEFAULT 0,
                updated_at {REAL} NOT NULL)
            """,
        ]),
    ];

    public static int Latest => All[^1].Version;
}
