import type { Options } from '../sql/options.js';
import type { QualifiedName } from '../sql/names.js';

/** Objects Snowflake has and DuckDB does not: recorded here, keyed by qualified name. */
export interface FileFormatObject {
  readonly name: QualifiedName;
  readonly options: Options;
}

export interface StageObject {
  readonly name: QualifiedName;
  readonly url: string;
  readonly storageIntegration: string | undefined;
  readonly fileFormat: Options | undefined;
  readonly options: Options;
}

export interface StorageIntegrationObject {
  readonly name: string;
  readonly provider: string;
  readonly enabled: boolean;
  readonly roleArn: string | undefined;
  readonly allowedLocations: readonly string[];
  readonly blockedLocations: readonly string[];
  readonly options: Options;
}

/** One file a COPY loaded: Snowflake's load metadata, per table. */
export interface LoadedFile {
  readonly url: string;
  readonly contentKey: string;
  readonly loadedAt: Date;
  readonly rowsLoaded: number;
}

const key = (q: QualifiedName) => `${q.database}.${q.schema}.${q.name}`;

export class Catalog {
  readonly fileFormats = new Map<string, FileFormatObject>();
  readonly stages = new Map<string, StageObject>();
  readonly integrations = new Map<string, StorageIntegrationObject>();
  /** table key -> file URL -> what was loaded. */
  private readonly loads = new Map<string, Map<string, LoadedFile>>();

  static key = key;

  fileFormat(name: QualifiedName): FileFormatObject | undefined {
    return this.fileFormats.get(key(name));
  }

  stage(name: QualifiedName): StageObject | undefined {
    return this.stages.get(key(name));
  }

  loadedFile(table: QualifiedName, url: string): LoadedFile | undefined {
    return this.loads.get(key(table))?.get(url);
  }

  recordLoads(table: QualifiedName, files: readonly LoadedFile[]): void {
    let byUrl = this.loads.get(key(table));
    if (!byUrl) {
      byUrl = new Map();
      this.loads.set(key(table), byUrl);
    }
    for (const f of files) byUrl.set(f.url, f);
  }

  /** TRUNCATE and DROP/REPLACE TABLE forget a table's load metadata, as Snowflake does. */
  forgetLoads(table: QualifiedName): void {
    this.loads.delete(key(table));
  }

  loadHistory(table: QualifiedName): LoadedFile[] {
    return [...(this.loads.get(key(table))?.values() ?? [])];
  }

  /** Everything in a database or schema goes with it. */
  dropContainer(database: string, schema?: string): void {
    const prefix = schema === undefined ? `${database}.` : `${database}.${schema}.`;
    for (const map of [this.fileFormats, this.stages, this.loads] as Map<string, unknown>[]) {
      for (const k of [...map.keys()]) if (k.startsWith(prefix)) map.delete(k);
    }
  }
}
