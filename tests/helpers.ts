/**
 * Helpers for tests, split by what they drive (tests/helpers/): the
 * environment and paths (env.ts), the CLI (cli.ts), sockets and servers
 * (net.ts), a private keyring (keyring.ts), a terminal (tmux.ts); the
 * OpenID Provider is tests/oidc_helpers.ts; accounts written straight to a
 * config directory (store.ts); the agent (agent.ts). This index re-exports them;
 * the README's install in a fresh shell (install.ts) is imported on its own.
 * @module
 */
export * from "./helpers/env.ts";
export * from "./helpers/cli.ts";
export * from "./helpers/net.ts";
export * from "./helpers/keyring.ts";
export * from "./helpers/tmux.ts";
export * from "./helpers/store.ts";
export * from "./helpers/agent.ts";
