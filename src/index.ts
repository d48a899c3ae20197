// The package's public surface: build and run a Keygate server, or talk to one.
export { createApp, type App, type AppOverrides } from './app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { buildHttpServer } from './http/server.js';
export * from './client/index.js';
