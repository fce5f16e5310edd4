// Textual checks of the Dockerfiles and .dockerignore (no Docker engine here),
// and a real run of the entrypoint's file-descriptor handling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, existsSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, DEPLOY_DIR, render } from "./helpers/render.ts";

const SERVICES = ["gateway", "detector", "classifier"] as const;
const PORTS = { gateway: ["8080", "9100"], detector: ["9101", "8101"], classifier: ["9102", "8102"] };

type Instr = { cmd: string; args: string; line: number };
/** Minimal Dockerfile parser: joins continuation lines, drops comments. */
export function parseDockerfile(text: string): Instr[] {
  const out: Instr[] = [];
  const lines = text.split("\n");
  let buf = "";
  let start = 0;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (!buf && (/^\s*#/.test(line) || !line.trim())) return;
    if (!buf) start = i + 1;
    if (/\\\s*$/.test(line)) { buf += line.replace(/\\\s*$/, " "); return; }
    buf += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(buf);
    if (m) out.push({ cmd: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
    buf = "";
  });
  return out;
}

/** Violations of the image rules for one Dockerfile (empty = ok). */
export function checkDockerfile(text: string, svc: string): string[] {
  const v: string[] = [];
  const ins = parseDockerfile(text);
  const args = new Map<string, string>();
  for (const i of ins) {
    if (i.cmd === "ARG") { const [k, d] = i.args.split("="); if (d !== undefined) args.set(k!.trim(), d.trim()); }
  }
  const froms = ins.filter((i) => i.cmd === "FROM");
  if (froms.length < 2) v.push("not multi-stage (needs >= 2 FROM)");
  const stages = new Set<string>();
  for (const f of froms) {
    const [imageRef, , alias] = f.args.split(/\s+/);
    const image = imageRef!.replace(/\$\{?([A-Z_]+)\}?/g, (_, k) => args.get(k) ?? "");
    if (!stages.has(image)) {
      if (!image) v.push(`FROM ${imageRef}: unresolved image`);
      else if (!image.includes("@") && (!image.includes(":") || image.endsWith(":latest"))) v.push(`FROM ${image}: untagged or :latest`);
      else if (!/^node:20[.\d]*-bookworm-slim(@sha256:[0-9a-f]{64})?$/.test(image)) v.push(`FROM ${image}: not node:20 bookworm-slim`);
    }
    if (alias) stages.add(alias);
  }
  if (/:latest\b/.test(text)) v.push("mentions a :latest tag");
  const lastFrom = ins.lastIndexOf(froms[froms.length - 1]!);
  const final = ins.slice(lastFrom);
  const users = final.filter((i) => i.cmd === "USER");
  const user = users[users.length - 1]?.args;
  if (!user) v.push("final stage has no USER (would run as root)");
  else if (/^(root|0)(:|$)/.test(user)) v.push(`final stage runs as ${user}`);
  const ep = final.find((i) => i.cmd === "ENTRYPOINT");
  let epArr: string[] = [];
  try { epArr = ep ? JSON.parse(ep.args) : []; } catch { v.push("ENTRYPOINT is not exec (JSON) form"); }
  if (!/(^|\/)(tini|dumb-init)$/.test(epArr[0] ?? "")) v.push("ENTRYPOINT does not start with an init (tini)");
  if (!epArr.includes("/usr/local/bin/dfd-entrypoint")) v.push("ENTRYPOINT does not run dfd-entrypoint (fd limit)");
  if (!final.some((i) => i.cmd === "RUN" && /apt-get install[^&]*\btini\b/.test(i.args))) v.push("runtime stage does not install tini");
  const cmd = final.find((i) => i.cmd === "CMD");
  if (!cmd || JSON.stringify(JSON.parse(cmd.args)) !== JSON.stringify(["node", `services/${svc}/dist/server.js`])) v.push(`CMD is not node services/${svc}/dist/server.js`);
  if (!ins.some((i) => i.cmd === "ENV" && /ONNXRUNTIME_NODE_INSTALL=skip/.test(i.args))) v.push("ONNXRUNTIME_NODE_INSTALL=skip not set for install");
  if (!ins.some((i) => i.cmd === "RUN" && /pnpm install --frozen-lockfile/.test(i.args))) v.push("no pnpm install --frozen-lockfile");
  if (!ins.some((i) => i.cmd === "RUN" && /tsc -b tsconfig\.json/.test(i.args))) v.push("no tsc -b build");
  if (!ins.some((i) => i.cmd === "RUN" && /pnpm (install|deploy)[^&]*--prod/.test(i.args))) v.push("no production-only dependency step");
  if (final.some((i) => i.cmd === "COPY" && !/--from=/.test(i.args) && !/entrypoint\.sh/.test(i.args))) v.push("runtime stage copies sources from the context (only build output allowed)");
  if (final.some((i) => i.cmd === "RUN" && /\b(pnpm|npm|yarn) (install|ci)\b/.test(i.args))) v.push("runtime stage installs packages with a package manager");
  return v;
}

for (const svc of SERVICES) {
  test(`services/${svc}/Dockerfile follows the image rules`, () => {
    const text = readFileSync(path.join(REPO_ROOT, "services", svc, "Dockerfile"), "utf8");
    assert.deepEqual(checkDockerfile(text, svc), []);
    const expose = parseDockerfile(text).filter((i) => i.cmd === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
    assert.deepEqual(expose.sort(), [...PORTS[svc]].sort());
  });

  test(`k8s ${svc} ports and uid agree with its Dockerfile`, () => {
    const d = render("prod").find((o) => o.kind === "Deployment" && o.metadata.name === svc)!;
    const ports = d.spec.template.spec.containers[0].ports.map((p: any) => String(p.containerPort));
    assert.deepEqual(ports.sort(), [...PORTS[svc]].sort());
    assert.equal(d.spec.template.spec.securityContext.runAsUser, 1000, "the node image's 'node' user");
  });
}

test("checkDockerfile reports broken images", () => {
  const good = readFileSync(path.join(REPO_ROOT, "services/gateway/Dockerfile"), "utf8");
  const cases: [string, string, RegExp][] = [
    ["root user", good.replace(/^USER node$/m, "USER root"), /runs as root/],
    ["no USER", good.replace(/^USER node$/m, ""), /no USER/],
    ["latest tag", good.replace("node:20-bookworm-slim", "node:latest"), /latest/],
    ["single stage", good.replace(/FROM \$\{NODE_IMAGE\} AS build[\s\S]*?(?=FROM \$\{NODE_IMAGE\} AS runtime)/, ""), /multi-stage/],
    ["no init", good.replace('"/usr/bin/tini", "--", ', ""), /init/],
    ["shell-form entrypoint", good.replace(/^ENTRYPOINT .*$/m, "ENTRYPOINT /usr/local/bin/dfd-entrypoint"), /exec \(JSON\) form/],
    ["alpine", good.replace("node:20-bookworm-slim", "node:20-alpine"), /bookworm-slim/],
  ];
  for (const [what, text, re] of cases) {
    const v = checkDockerfile(text, "gateway");
    assert.ok(v.some((x) => re.test(x)), `${what}: expected ${re}, got ${JSON.stringify(v)}`);
  }
});

test(".dockerignore keeps secrets, node_modules and dist out but keeps what the build needs", () => {
  const lines = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const p of [".git", "**/node_modules", "**/dist", "**/.env"]) assert.ok(lines.includes(p), `missing ${p}`);
  for (const keep of ["!deploy/package.json", "!deploy/docker"]) assert.ok(lines.includes(keep), `must keep ${keep}`);
  for (const never of ["packages", "services", "models", "pnpm-lock.yaml", "package.json", "deploy"]) assert.ok(!lines.includes(never), `must not ignore ${never}`);
});

const ENTRY = path.join(DEPLOY_DIR, "docker/entrypoint.sh");

test("entrypoint raises the soft fd limit to the hard limit and execs the command", { skip: !existsSync("/bin/sh") }, () => {
  assert.ok(statSync(ENTRY).mode & 0o111, "entrypoint.sh must be executable");
  const hard = execFileSync("/bin/sh", ["-c", "ulimit -H -n"], { encoding: "utf8" }).trim();
  if (hard === "unlimited" || Number(hard) < 64) return; // nothing meaningful to test
  const low = Math.min(64, Number(hard));
  // Start with a low soft limit, as container runtimes do (1024), and read it back from the exec'd process.
  const out = execFileSync("/bin/sh", ["-c", `ulimit -S -n ${low} && exec /bin/sh "$0" /bin/sh -c 'echo "$(ulimit -S -n) $(ulimit -H -n) $$"'`, ENTRY], {
    encoding: "utf8",
    env: { ...process.env, DFD_ENTRYPOINT_QUIET: "1" },
  }).trim();
  const [soft, hardAfter] = out.split(" ");
  assert.equal(hardAfter, hard);
  assert.equal(soft, hard, `soft limit ${soft} was not raised to hard ${hard}`);
});

test("entrypoint without a command fails loudly", () => {
  assert.throws(() => execFileSync("/bin/sh", [ENTRY], { stdio: "pipe", env: { ...process.env, DFD_ENTRYPOINT_QUIET: "1" } }), /status 64|code 64|Command failed/);
});
