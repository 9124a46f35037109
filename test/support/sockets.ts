// A Linux process's TCP sockets, read from /proc: which of its file descriptors are sockets, and
// the state and local port of each in /proc/<pid>/net/tcp and tcp6 (to find leaked listeners).
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

export interface TcpSocket {
  localPort: number;
  /** "LISTEN", "ESTABLISHED", ... (the states a test cares about; others by their hex code). */
  state: string;
}

const STATES: Record<string, string> = { "01": "ESTABLISHED", "06": "TIME_WAIT", "08": "CLOSE_WAIT", "0A": "LISTEN" };

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // the descriptor closed while we read the folder
    }
  }
  return inodes;
}

/** The TCP sockets (IPv4 and IPv6) that process `pid` holds open. */
export function tcpSocketsOf(pid: number): TcpSocket[] {
  const inodes = socketInodes(pid);
  const sockets: TcpSocket[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9] ?? "")) continue;
      const localPort = parseInt((fields[1] ?? "").split(":")[1] ?? "0", 16);
      const code = fields[3] ?? "";
      sockets.push({ localPort, state: STATES[code] ?? code });
    }
  }
  return sockets;
}
