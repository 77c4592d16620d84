// A CRI v1 client for the tests (what kubelet speaks to containerd): @grpc/grpc-js over the unix socket, the
// messages from our own subset of the API (api.proto). Calls return plain objects with the proto's field names.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// Responses are dynamic protobuf objects; the tests read the fields they asked for.
export type Msg = any;

type Unary = (req: Msg, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

const definition = protoLoader.loadSync(path.join(__dirname, 'api.proto'), {
  keepCase: true, // snake_case, as in the proto and the CRI docs
  longs: String, // int64/uint64 as decimal strings: no precision loss
  enums: String,
  defaults: true,
});
const v1 = (grpc.loadPackageDefinition(definition) as any).runtime.v1;

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;

  constructor(socket: string) {
    this.runtime = new v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
    this.image = new v1.ImageService(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  /** RuntimeService.<method>(req); rejects with the gRPC status and message. */
  call(method: string, req: Msg = {}, timeoutMs = 60_000): Promise<Msg> {
    return unary(this.runtime, method, req, timeoutMs);
  }

  /** ImageService.<method>(req). */
  callImage(method: string, req: Msg = {}, timeoutMs = 30_000): Promise<Msg> {
    return unary(this.image, method, req, timeoutMs);
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}

function unary(client: grpc.Client, method: string, req: Msg, timeoutMs: number): Promise<Msg> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (typeof fn !== 'function') throw new Error(`api.proto has no ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(new Error(`${method}: ${grpc.status[err.code]}: ${err.details}`));
      else resolve(res);
    });
  });
}
