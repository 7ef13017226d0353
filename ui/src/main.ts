// Entry point: styles, then the app against the real IPC layer.

import "./styles.css";
import { App } from "./app";
import { api, events } from "./ipc";

const root = document.getElementById("app");
if (root) {
  void new App(root, api, events).start();
}
