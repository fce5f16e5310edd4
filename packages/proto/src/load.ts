import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const protoDir = fileURLToPath(new URL('../proto/', import.meta.url));

// keepCase keeps the OIP field names (raw_input_contents, ...) as in the protocol's documentation.
const loaderOptions: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

let cached: { inference: grpc.GrpcObject; health: grpc.GrpcObject } | undefined;

export function loadProtos(): { inference: grpc.GrpcObject; health: grpc.GrpcObject } {
  if (!cached) {
    const def = protoLoader.loadSync(['grpc_predict_v2.proto', 'health.proto'], { ...loaderOptions, includeDirs: [protoDir] });
    const pkg = grpc.loadPackageDefinition(def);
    cached = {
      inference: pkg.inference as grpc.GrpcObject,
      health: ((pkg.grpc as grpc.GrpcObject).health as grpc.GrpcObject).v1 as grpc.GrpcObject,
    };
  }
  return cached;
}

export function inferenceService(): grpc.ServiceClientConstructor {
  return loadProtos().inference.GRPCInferenceService as grpc.ServiceClientConstructor;
}

export function healthService(): grpc.ServiceClientConstructor {
  return loadProtos().health.Health as grpc.ServiceClientConstructor;
}

export const protoFiles = { oip: `${protoDir}grpc_predict_v2.proto`, health: `${protoDir}health.proto` };
