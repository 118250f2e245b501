--- @module assay.workflow
--- @description Client and worker for the Assay workflow engine (`assay serve`): define durable
--- workflows and activities in Lua and run them (`listen`); start, signal, inspect and manage
--- workflows, schedules, namespaces, workers and queues over the engine's REST API; replay-test
--- recorded histories against new code and version changes with ctx:patched.
--- @keywords workflow, durable, engine, temporal, schedule, cron, signal, worker, activity, replay, versioning, patched, non-determinism
--- @env ASSAY_ENGINE_URL
--- @example local wf = require("assay.workflow"); wf.connect("http://127.0.0.1:8080"); wf.start{workflow_type="Hello", workflow_id="hello-1"}
--
-- The client half (start, signal, describe, schedules …) and the worker half (define, activity,
-- listen and the replaying workflow ctx) keep the original client's API (names, arguments, return
-- shapes). The worker long-polls, runs tasks concurrently as tasks of the event loop, detects
-- non-determinism, survives engine outages and stops gracefully on SIGTERM. See docs/workflows.md.
--
-- The parts (stdlib/workflow/): client.lua (connect, define, activity, the REST calls; its table is
-- this module's), replay.lua (the workflow ctx, replayed against the history), worker.lua (listen,
-- stop), tester.lua (replay testing: replay, load_worker, load_history) and common.lua (the
-- connection, the registered handlers, helpers).
local M = require("assay.workflow.client")
local worker = require("assay.workflow.worker")
local tester = require("assay.workflow.tester")

M._replay = require("assay.workflow.replay")
M.listen, M.stop = worker.listen, worker.stop
M.replay, M.load_worker, M.load_history, M._replay_cli = tester.replay, tester.load_worker, tester.load_history, tester._cli

return M
