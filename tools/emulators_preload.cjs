// Preloaded into the Firebase emulators' node process by tools/devstack.py (NODE_OPTIONS).
// Two fixes to emulator behaviour that Firebase itself does not have.
"use strict";
const http = require("http");
const path = require("path");

// 1. No keep-alive between the functions emulator and its Python workers.
// The functions emulator proxies every request to its worker (gunicorn, which closes idle
// keep-alive connections after 2 s) through Node's global HTTP agent, which since Node 19
// keeps idle sockets for 5 s. A request sent on a kept socket just as gunicorn closes it fails
// with "socket hang up": the emulator answers 500 and kills the worker, and a Firestore
// trigger's event is lost (its job stays queued). Measured here: 1 request in 60 sent at 2 s
// intervals. One fresh loopback connection per request costs well under a millisecond.
http.globalAgent = new http.Agent({ keepAlive: false });

// 2. The Tasks emulator looks at idle queues every 50 ms instead of every second.
// Its controller sleeps LISTEN_TIMEOUT (1000 ms) between looks while no task is in flight, so
// the first task of every job waited 0-1 s here; Cloud Tasks dispatches within milliseconds.
const IDLE_POLL_MS = 50;
if (/firebase/.test(process.argv[1] || "")) {
  try {
    const modulePath = path.join(__dirname, "..", "node_modules", "firebase-tools", "lib", "emulator", "tasksEmulator.js");
    const { TaskQueueController } = require(modulePath);
    if (typeof TaskQueueController.LISTEN_TIMEOUT !== "number") throw new Error("no LISTEN_TIMEOUT");
    TaskQueueController.LISTEN_TIMEOUT = IDLE_POLL_MS;
  } catch (error) {
    process.emitWarning(`emulators_preload: Tasks emulator poll left as is (${error.message})`);
  }
}
