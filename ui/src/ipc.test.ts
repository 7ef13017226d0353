import { emit } from "@tauri-apps/api/event";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";

import { api, COMMANDS, EVENTS, events, IpcError } from "./ipc";
import type { StepEvent } from "./types";
import { account } from "./testing/fakeBackend";

afterEach(() => clearMocks());

/** Records every invoke; answers with `reply(command, args)`. */
function record(reply: (command: string, args: Record<string, unknown>) => unknown = () => null) {
  const seen: { command: string; args: Record<string, unknown> }[] = [];
  mockIPC(
    (command, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      seen.push({ command, args: a });
      return reply(command, a);
    },
    { shouldMockEvents: true },
  );
  return seen;
}

describe("ipc", () => {
  it("calls each command by its table name with camelCase arguments", async () => {
    const seen = record();
    const work = account("work");
    await api.getSettings();
    await api.saveAccount(null, work, "pw");
    await api.saveAccount("work", work, "");
    await api.removeAccount("work");
    await api.saveFolders("work", ["INBOX"]);
    await api.testConnection(7, "work", work, "");
    await api.listFolders("work");
    await api.checkNow("");
    await api.openMessage("work", "7.ana@example.com");
    await api.setAutostart(true);
    expect(seen).toEqual([
      { command: "get_settings", args: {} },
      { command: "save_account", args: { originalId: null, account: work, password: "pw" } },
      // An empty password means "keep the stored one": it is not sent at all.
      { command: "save_account", args: { originalId: "work", account: work, password: null } },
      { command: "remove_account", args: { id: "work" } },
      { command: "save_folders", args: { id: "work", folders: ["INBOX"] } },
      { command: "test_connection", args: { run: 7, originalId: "work", account: work, password: null } },
      { command: "list_folders", args: { id: "work" } },
      { command: "check_now", args: { account: "" } },
      { command: "open_message", args: { account: "work", messageId: "7.ana@example.com" } },
      { command: "set_autostart", args: { enabled: true } },
    ]);
  });

  it("lists every command once, in snake_case as Rust names them", () => {
    const names = Object.values(COMMANDS);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });

  it("turns the shell's {kind, message} into an IpcError the UI can branch on", async () => {
    record(() => Promise.reject({ kind: "tray_not_running", message: "Pushmail is not running." }));
    const error = await api.trayAccounts().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect(error).toMatchObject({ kind: "tray_not_running", message: "Pushmail is not running." });
  });

  it("treats anything else as an internal error, keeping its text", async () => {
    record(() => Promise.reject("command save_foo not found"));
    await expect(api.getSettings()).rejects.toMatchObject({ kind: "internal", message: "command save_foo not found" });
    record(() => Promise.reject({ kind: "made_up", message: "x" }));
    await expect(api.getSettings()).rejects.toMatchObject({ kind: "internal" });
  });

  it("delivers events to typed handlers, and stops after unlisten", async () => {
    record();
    const got: StepEvent[] = [];
    const stop = await events.onProbeStep((e) => got.push(e));
    const step = { run: 1, step: { step: "tcp", ok: true, detail: "connected", millis: 3 } };
    await emit(EVENTS.probeStep, step);
    stop();
    await emit(EVENTS.probeStep, step);
    expect(got).toEqual([step]);

    const changes: string[] = [];
    await events.onTrayChanged((c) => changes.push(c));
    await emit(EVENTS.trayChanged, "presence");
    expect(changes).toEqual(["presence"]);
  });
});
