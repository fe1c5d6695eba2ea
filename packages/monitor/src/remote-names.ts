import { FlowNames, type FlowNamesOptions, type NameSource } from '@netwho/capture';
import { Geo, type GeoInfo, type GeoOptions } from '@netwho/geo';
import { isLoopback, ReverseDns } from './reverse-dns';

/**
 * Where a remote end's name came from, best first: what the program asked for (`tls-sni`,
 * `quic-sni`, `http-host`), the name whose DNS answer gave this machine the address (`dns`), the
 * address's reverse DNS (`reverse-dns`), and for loopback addresses only, /etc/hosts (`hosts`).
 */
export type RemoteNameSource = NameSource | 'reverse-dns' | 'hosts';

/** What is known of a connection's remote end besides its address. */
export interface RemoteEnd {
  remoteName?: string;
  remoteNameSource?: RemoteNameSource;
  /** `public`, `private`, `loopback`, ... (see @netwho/geo's AddressScope); absent without geo. */
  remoteScope?: GeoInfo['scope'];
  /** ISO 3166-1 alpha-2 country of a public address. */
  country?: string;
  asn?: number;
  asOrg?: string;
}

export interface RemoteNamesParts {
  /** Names from flows' first packets and observed DNS answers (capture only). */
  flows?: FlowNames;
  /** Reverse DNS in the background, and /etc/hosts names for loopback. */
  reverseDns?: ReverseDns;
  geo?: Geo;
}

/** Joins the sources of names and places for a remote end, in the order RemoteNameSource gives. */
export class RemoteNames {
  constructor(private readonly parts: RemoteNamesParts) {}

  /** The remote end of flow `flowId` (or of no flow: `undefined`) at `address`, now. */
  describe(flowId: number | undefined, address: string, nowMs: number): RemoteEnd {
    const out: RemoteEnd = {};
    const asked = flowId === undefined ? undefined : this.parts.flows?.nameOf(flowId, address, nowMs);
    if (asked) {
      out.remoteName = asked.name;
      out.remoteNameSource = asked.source;
    } else if (this.parts.reverseDns) {
      const name = this.parts.reverseDns.name(address);
      if (name !== undefined) {
        out.remoteName = name;
        out.remoteNameSource = isLoopback(address) ? 'hosts' : 'reverse-dns';
      }
    }
    const geo = this.parts.geo?.lookup(address);
    if (geo) {
      out.remoteScope = geo.scope;
      if (geo.country) out.country = geo.country;
      if (geo.asn !== undefined) out.asn = geo.asn;
      if (geo.asOrg) out.asOrg = geo.asOrg;
    }
    return out;
  }
}

/** How a monitor names and places the remote ends of connections. */
export interface NamesOptions {
  /**
   * Read the first packets of each flow (TLS and QUIC SNI, HTTP Host) and every DNS answer for
   * names: default on; options bound what is kept (capture mode only).
   */
  inspect?: boolean | FlowNamesOptions;
  /**
   * Reverse DNS for addresses nothing else names, and /etc/hosts names for loopback: default off,
   * since it sends DNS queries; `true` or a ReverseDns of your own to share its cache.
   */
  reverseDns?: boolean | ReverseDns;
  /** Country and AS: a Geo, options to open one (default: the bundled databases), or `false`. */
  geo?: Geo | GeoOptions | false;
}

/** The names a monitor's options ask for; throws GeoError when a database given cannot be opened. */
export function openNames(
  options: NamesOptions = {},
  capture = true,
): { names: RemoteNames; flows?: FlowNames } {
  const inspect = options.inspect ?? true;
  const flows = capture && inspect !== false ? new FlowNames(inspect === true ? {} : inspect) : undefined;
  const reverseDns =
    options.reverseDns instanceof ReverseDns
      ? options.reverseDns
      : options.reverseDns
        ? new ReverseDns()
        : undefined;
  const geo =
    options.geo instanceof Geo ? options.geo : options.geo === false ? undefined : Geo.open(options.geo);
  return {
    names: new RemoteNames({
      ...(flows && { flows }),
      ...(reverseDns && { reverseDns }),
      ...(geo && { geo }),
    }),
    ...(flows && { flows }),
  };
}
