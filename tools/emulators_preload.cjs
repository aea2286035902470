// Preloaded into the Firebase emulators' node process by tools/devstack.py (NODE_OPTIONS).
// Fixes to emulator behaviour that Firebase itself does not have.
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

// 3. Every Python worker gets a port of its own.
// The functions emulator starts each Python worker on `portfinder.getPortPromise({port: 8081 +
// random(0, 1000)})`, which only checks that the port is free at that moment. Two workers
// started at about the same time can get the same port before either listens: the second
// fails with "Connection in use", and the requests meant for it go to the first one, another
// function's worker; the job they belonged to waits for the sweeper. Seen here with several
// workers starting at once (a 60-user export; a test under load). Ports handed out once are
// never handed out again by this process.
if (/firebase/.test(process.argv[1] || "")) {
  try {
    const firebaseTools = path.join(__dirname, "..", "node_modules", "firebase-tools");
    const portfinder = require(require.resolve("portfinder", { paths: [firebaseTools] }));
    const getPortPromise = portfinder.getPortPromise.bind(portfinder);
    const handedOut = new Set();
    portfinder.getPortPromise = async (options = {}) => {
      let from = options.port;
      for (;;) {
        const port = await getPortPromise({ ...options, port: from });
        if (!handedOut.has(port)) {
          handedOut.add(port);
          return port;
        }
        from = port + 1;
      }
    };
  } catch (error) {
    process.emitWarning(`emulators_preload: worker ports left as they are (${error.message})`);
  }
}

// 4. A task with a scheduleTime waits for it, as on Cloud Tasks.
// The Tasks emulator queues every task for dispatch at once, whatever its scheduleTime: each
// job's safety-net plan task (delayed 90 s on Cloud Tasks, by when the job has ended and the
// task reads it and returns) ran beside the start trigger's own planning and waited for it, a
// Python invocation and a few reads per job that a deployed project does not pay then. A task
// scheduled later is now held until its time; its name is taken at once (a duplicate is
// refused, as Cloud Tasks refuses it) and deleting it before then drops it.
if (/firebase/.test(process.argv[1] || "")) {
  try {
    const modulePath = path.join(__dirname, "..", "node_modules", "firebase-tools", "lib", "emulator", "taskQueue.js");
    const { TaskQueue } = require(modulePath);
    const enqueueNow = TaskQueue.prototype.enqueue;
    const removeNow = TaskQueue.prototype.delete;
    if (typeof enqueueNow !== "function" || typeof removeNow !== "function") throw new Error("no enqueue/delete");
    const held = new WeakMap(); // queue -> Map(task name -> timer)
    const heldBy = (queue) => held.get(queue) || held.set(queue, new Map()).get(queue);
    TaskQueue.prototype.enqueue = function (task) {
      const wait = Date.parse(task.scheduleTime || "") - Date.now();
      if (!(wait > 0)) return enqueueNow.call(this, task);
      if (this.queuedIds.has(task.name)) throw new Error(`A task has already been queued with id ${task.name}`);
      this.queuedIds.add(task.name);
      const timers = heldBy(this);
      const timer = setTimeout(() => {
        timers.delete(task.name);
        this.queuedIds.delete(task.name); // enqueueNow takes the name again
        try {
          enqueueNow.call(this, task);
        } catch (error) {
          process.emitWarning(`emulators_preload: scheduled task ${task.name} not queued (${error.message})`);
        }
      }, wait);
      timers.set(task.name, timer);
    };
    TaskQueue.prototype.delete = function (taskId) {
      const timers = heldBy(this);
      if (!timers.has(taskId)) return removeNow.call(this, taskId);
      clearTimeout(timers.get(taskId));
      timers.delete(taskId);
    };
  } catch (error) {
    process.emitWarning(`emulators_preload: scheduled tasks still run at once (${error.message})`);
  }
}
