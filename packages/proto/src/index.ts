export { loadProtos, inferenceService, healthService, protoFiles } from './load.js';
export * from './tensors.js';
export { OipServer, InvalidInferRequest, type OipModel, type OipServerOptions } from './server.js';
export { OipClient, isTransient, type OipClientOptions } from './client.js';
