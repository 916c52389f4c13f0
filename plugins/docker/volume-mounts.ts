import { isAbsolute, resolve } from "node:path";
import type { MountSettings } from "dockerode";
import { ConfigFieldError } from "./config-field-error.js";
import type { VolumeObject } from "./docker-config.js";

const VOLUME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A volume entry that cannot be mounted; `field` names the entry. */
export class VolumeError extends ConfigFieldError {
  override readonly name = "VolumeError";
  override readonly code = "invalid_volume";
}

/**
 * Turns `volumes` entries into Docker mounts. A source that is an
 * absolute path is bind-mounted; one that starts with `./` or `../` is
 * bind-mounted from the attempt's work directory; any other is the name
 * of a volume, which the engine creates when missing. Binds use the
 * Mounts API, so a missing host path fails instead of being created
 * empty as an old-style bind would.
 */
export function volumeMounts(
  volumes: readonly (string | VolumeObject)[],
  workDir: string,
): MountSettings[] {
  return volumes.map((entry, index) => {
    const field = `config.volumes[${index}]`;
    const volume =
      typeof entry === "string" ? splitVolume(entry, field) : entry;
    return mountOf(volume, workDir, field);
  });
}

/** "source:target[:ro|:rw]" as an object. */
function splitVolume(text: string, field: string): VolumeObject {
  const parts = text.split(":");
  const [source, target, mode] = parts;
  if (
    parts.length > 3 ||
    source === undefined ||
    source === "" ||
    target === undefined ||
    (mode !== undefined && mode !== "ro" && mode !== "rw")
  ) {
    throw new VolumeError(
      field,
      `${JSON.stringify(text)} is not "source:target", "source:target:ro" ` +
        'or "source:target:rw"',
    );
  }
  return { source, target, read_only: mode === "ro" };
}

function mountOf(
  volume: VolumeObject,
  workDir: string,
  field: string,
): MountSettings {
  const { source, target } = volume;
  if (!target.startsWith("/")) {
    throw new VolumeError(
      field,
      `target ${JSON.stringify(target)} must be an absolute path`,
    );
  }
  const readOnly = volume.read_only === true;
  if (isAbsolute(source)) {
    return { Type: "bind", Source: source, Target: target, ReadOnly: readOnly };
  }
  if (/^\.\.?(\/|$)/.test(source)) {
    const hostPath = resolve(workDir, source);
    return {
      Type: "bind",
      Source: hostPath,
      Target: target,
      ReadOnly: readOnly,
    };
  }
  if (!VOLUME_NAME.test(source)) {
    throw new VolumeError(
      field,
      `source ${JSON.stringify(source)} is neither a path (absolute, or ` +
        "starting with ./) nor a volume name",
    );
  }
  return { Type: "volume", Source: source, Target: target, ReadOnly: readOnly };
}
