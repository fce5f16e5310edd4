// Textual checks of the Dockerfiles and .dockerignore (no Docker engine here),
// and a real run of the entrypoint's file-descriptor handling.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, existsSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT, DEPLOY_DIR, render } from "./helpers/render.ts";

const SERVICES = ["gateway", "detector", "classifier"] as const;
const PORTS = { gateway: ["8080", "9100"], detector: ["9101"], classifier: ["9102", "8102"] };

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

type Stage = { name?: string; from: string; ins: Instr[] };

/** `$X` / `${X}` replaced from `vars` (unknown names become empty, as in Docker). */
const expand = (s: string, vars: Map<string, string>) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, k) => vars.get(k) ?? "");

/** `ENV A=1 B=2` or `ENV A 1` as pairs. */
function envPairs(args: string): Array<[string, string]> {
  if (!args.includes("=")) { const [k, ...rest] = args.split(/\s+/); return [[k!, rest.join(" ")]]; }
  return args.split(/\s+/).filter(Boolean).map((kv) => { const i = kv.indexOf("="); return [kv.slice(0, i), kv.slice(i + 1).replace(/^"|"$/g, "")] as [string, string]; });
}

/**
 * The image `docker build --build-arg K=V` makes of this Dockerfile: global ARGs (before the
 * first FROM) resolved with the build arguments, the stages, and the chain of stages the final
 * image is made of (base first), following `FROM <stage>` links.
 */
export function imageOf(text: string, buildArgs: Record<string, string> = {}) {
  const ins = parseDockerfile(text);
  const vars = new Map<string, string>();
  const firstFrom = ins.findIndex((i) => i.cmd === "FROM");
  for (const i of ins.slice(0, firstFrom)) {
    if (i.cmd !== "ARG") continue;
    const [k, d] = i.args.split("=");
    vars.set(k!.trim(), buildArgs[k!.trim()] ?? d?.trim() ?? "");
  }
  const stages: Stage[] = [];
  for (const i of ins.slice(firstFrom)) {
    if (i.cmd === "FROM") {
      const [ref, , alias] = i.args.split(/\s+/);
      stages.push({ name: alias, from: expand(ref!, vars), ins: [] });
    } else stages.at(-1)!.ins.push(i);
  }
  const chain: Stage[] = [];
  for (let s: Stage | undefined = stages.at(-1); s; s = stages.find((x) => x.name === s!.from)) {
    if (chain.includes(s)) break;
    chain.unshift(s);
  }
  // Stage-local values: ARG (build argument or default) and ENV, in order along the chain.
  const env = new Map<string, string>();
  const local = new Map(vars);
  const resolved: Instr[] = [];
  for (const s of chain) {
    for (const i of s.ins) {
      if (i.cmd === "ARG") { const [k, d] = i.args.split("="); local.set(k!.trim(), buildArgs[k!.trim()] ?? d?.trim() ?? vars.get(k!.trim()) ?? ""); }
      const args = i.cmd === "RUN" || i.cmd === "CMD" || i.cmd === "ENTRYPOINT" || i.cmd === "HEALTHCHECK" ? i.args : expand(i.args, new Map([...local, ...env]));
      if (i.cmd === "ENV") for (const [k, v] of envPairs(args)) env.set(k, v);
      resolved.push({ ...i, args });
    }
  }
  return { stages, chain, base: chain[0]?.from ?? "", ins: resolved, env, vars };
}

/** What the image runs: CMD in exec form, a `sh -c "exec …"` CMD expanded from the image's ENV. */
export function commandOf(cmdArgs: string, env: Map<string, string>): string[] | null {
  let arr: string[];
  try { arr = JSON.parse(cmdArgs); } catch { return null; }
  if (/(^|\/)sh$/.test(arr[0] ?? "") && arr[1] === "-c" && arr.length === 3) {
    const m = /^exec\s+(.*)$/.exec(arr[2]!.trim());
    if (!m) return null; // without exec the shell, not node, would get SIGTERM
    return expand(m[1]!, env).split(/\s+/).map((w) => w.replace(/^"|"$/g, ""));
  }
  return arr;
}

/** Violations of the image rules for the image of one SERVICE (empty = ok). */
export function checkDockerfile(text: string, svc: string): string[] {
  const v: string[] = [];
  const all = parseDockerfile(text);
  const img = imageOf(text, { SERVICE: svc });
  const stageNames = new Set(img.stages.map((s) => s.name).filter(Boolean));
  for (const s of img.stages) {
    if (stageNames.has(s.from)) continue;
    const image = s.from;
    if (!image) v.push(`FROM of stage ${s.name ?? "(final)"}: unresolved image`);
    else if (!image.includes("@") && (!image.includes(":") || image.endsWith(":latest"))) v.push(`FROM ${image}: untagged or :latest`);
    else if (!/^node:20[.\d]*-bookworm-slim(@sha256:[0-9a-f]{64})?$/.test(image)) v.push(`FROM ${image}: not node:20 bookworm-slim`);
  }
  if (stageNames.has(img.base) || !img.base) v.push(`the image for ${svc} does not start from a base image`);
  if (/:latest\b/.test(text)) v.push("mentions a :latest tag");
  // Multi-stage: the image copies its build output from a stage that is not part of it.
  const chainNames = new Set(img.chain.map((s) => s.name));
  const copiesFrom = img.ins.filter((i) => i.cmd === "COPY").map((i) => /--from=(\S+)/.exec(i.args)?.[1]).filter(Boolean) as string[];
  if (!copiesFrom.some((f) => stageNames.has(f) && !chainNames.has(f))) v.push("not multi-stage (the image copies nothing from a build stage)");
  for (const f of copiesFrom) if (!stageNames.has(f)) v.push(`COPY --from=${f}: no such stage`);
  const final = img.ins;
  const users = final.filter((i) => i.cmd === "USER");
  const user = users[users.length - 1]?.args;
  if (!user) v.push("final stage has no USER (would run as root)");
  else if (/^(root|0)(:|$)/.test(user)) v.push(`final stage runs as ${user}`);
  const eps = final.filter((i) => i.cmd === "ENTRYPOINT");
  const ep = eps[eps.length - 1];
  let epArr: string[] = [];
  try { epArr = ep ? JSON.parse(ep.args) : []; } catch { v.push("ENTRYPOINT is not exec (JSON) form"); }
  if (!/(^|\/)(tini|dumb-init)$/.test(epArr[0] ?? "")) v.push("ENTRYPOINT does not start with an init (tini)");
  if (!epArr.includes("/usr/local/bin/dfd-entrypoint")) v.push("ENTRYPOINT does not run dfd-entrypoint (fd limit)");
  if (!final.some((i) => i.cmd === "RUN" && /apt-get install[^&]*\btini\b/.test(i.args))) v.push("runtime stage does not install tini");
  const cmds = final.filter((i) => i.cmd === "CMD");
  const cmd = cmds.length ? commandOf(cmds[cmds.length - 1]!.args, img.env) : null;
  if (JSON.stringify(cmd) !== JSON.stringify(["node", `services/${svc}/dist/server.js`])) v.push(`CMD is not node services/${svc}/dist/server.js (got ${JSON.stringify(cmd)})`);
  if (!all.some((i) => i.cmd === "ENV" && /ONNXRUNTIME_NODE_INSTALL=skip/.test(i.args))) v.push("ONNXRUNTIME_NODE_INSTALL=skip not set for install");
  if (!all.some((i) => i.cmd === "RUN" && /pnpm install --frozen-lockfile/.test(i.args))) v.push("no pnpm install --frozen-lockfile");
  if (!all.some((i) => i.cmd === "RUN" && /tsc -b tsconfig\.json/.test(i.args))) v.push("no tsc -b build");
  if (!all.some((i) => i.cmd === "RUN" && /pnpm (install|deploy)[^&]*--prod[^&]*--filter "@dfd\/\$\{?SERVICE\}?\.\.\."/.test(i.args))) v.push("no production-only dependency step for the service");
  if (final.some((i) => i.cmd === "COPY" && !/--from=/.test(i.args) && !/entrypoint\.sh/.test(i.args))) v.push("runtime stage copies sources from the context (only build output allowed)");
  if (final.some((i) => i.cmd === "RUN" && /\b(pnpm|npm|yarn) (install|ci)\b/.test(i.args))) v.push("runtime stage installs packages with a package manager");
  return v;
}

const DOCKERFILE = path.join(DEPLOY_DIR, "docker", "Dockerfile");
const dockerfile = () => readFileSync(DOCKERFILE, "utf8");

test("one Dockerfile for every service: no per-service copies", () => {
  for (const svc of SERVICES) assert.ok(!existsSync(path.join(REPO_ROOT, "services", svc, "Dockerfile")), `services/${svc}/Dockerfile is back; build with deploy/docker/Dockerfile --build-arg SERVICE=${svc}`);
  assert.deepEqual(parseDockerfile(dockerfile()).filter((i) => i.cmd === "ARG" && /^SERVICE(=|$)/.test(i.args)).length > 0, true, "ARG SERVICE");
});

for (const svc of SERVICES) {
  test(`deploy/docker/Dockerfile with SERVICE=${svc} follows the image rules`, () => {
    const text = dockerfile();
    assert.deepEqual(checkDockerfile(text, svc), []);
    const img = imageOf(text, { SERVICE: svc });
    const expose = img.ins.filter((i) => i.cmd === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
    assert.deepEqual(expose.sort(), [...PORTS[svc]].sort());
    assert.ok(img.ins.some((i) => i.cmd === "COPY" && i.args.includes(`/repo/services/${svc} ./services/${svc}`)), "copies the service's build output");
    assert.equal(img.ins.some((i) => i.cmd === "COPY" && /\/repo\/models/.test(i.args)), svc !== "gateway", "models only where a model is served");
    const httpPort = img.env.get("HTTP_PORT");
    assert.ok(httpPort && expose.includes(httpPort), `HTTP_PORT ${httpPort} is exposed`);
  });

  test(`k8s ${svc} ports and uid agree with the image for SERVICE=${svc}`, () => {
    const d = render("prod").find((o) => o.kind === "Deployment" && o.metadata.name === svc)!;
    const ports = d.spec.template.spec.containers[0].ports.map((p: any) => String(p.containerPort));
    const expose = imageOf(dockerfile(), { SERVICE: svc }).ins.filter((i) => i.cmd === "EXPOSE").flatMap((i) => i.args.split(/\s+/));
    assert.deepEqual(ports.sort(), expose.sort(), "the image EXPOSEs the ports its Deployment declares");
    assert.equal(d.spec.template.spec.securityContext.runAsUser, 1000, "the node image's 'node' user");
  });
}

test("checkDockerfile reports broken images", () => {
  const good = dockerfile();
  assert.deepEqual(checkDockerfile(good, "detector"), []);
  const cases: [string, string, RegExp][] = [
    ["root user", good.replace(/^USER node$/m, "USER root"), /runs as root/],
    ["no USER", good.replace(/^USER node$/m, ""), /no USER/],
    ["latest tag", good.replace("node:20-bookworm-slim", "node:latest"), /latest/],
    ["single stage", good.replace(/FROM \$\{NODE_IMAGE\} AS build[\s\S]*?(?=FROM \$\{NODE_IMAGE\} AS runtime)/, ""), /multi-stage/],
    ["no init", good.replace('"/usr/bin/tini", "--", ', ""), /init/],
    ["shell-form entrypoint", good.replace(/^ENTRYPOINT .*$/m, "ENTRYPOINT /usr/local/bin/dfd-entrypoint"), /exec \(JSON\) form/],
    ["alpine", good.replace("node:20-bookworm-slim", "node:20-alpine"), /bookworm-slim/],
    ["shell CMD without exec", good.replace('"exec node ', '"node '), /CMD is not/],
    ["CMD of another service", good.replace("DFD_SERVICE=${SERVICE}", "DFD_SERVICE=gateway"), /CMD is not node services\/detector/],
    ["no service stage", good.replace(/^FROM runtime AS detector$/m, "FROM runtime AS detector2"), /does not start from a base image|CMD is not|not multi-stage/],
  ];
  for (const [what, text, re] of cases) {
    const v = checkDockerfile(text, "detector");
    assert.ok(v.some((x) => re.test(x)), `${what}: expected ${re}, got ${JSON.stringify(v)}`);
  }
});

test(".dockerignore keeps secrets, node_modules and dist out but keeps what the build needs", () => {
  const lines = readFileSync(path.join(REPO_ROOT, ".dockerignore"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const p of [".git", "**/node_modules", "**/dist", "**/.env"]) assert.ok(lines.includes(p), `missing ${p}`);
  for (const keep of ["!deploy/package.json", "!deploy/docker", "!test/support/package.json"]) assert.ok(lines.includes(keep), `must keep ${keep}`);
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
