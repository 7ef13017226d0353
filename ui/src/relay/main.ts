// Entry point of the relay's web app (relay.html): the settings window's styles, the app's own.

import "../styles.css";
import "./relay.css";
import { RelayApp } from "./app";

const root = document.getElementById("app");
if (root) {
  void new RelayApp(root).start();
}
