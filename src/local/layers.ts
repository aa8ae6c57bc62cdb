import os from 'node:os';
import { DbfastError } from '../errors.js';
import type { EnvironmentConfig } from '../config/types.js';
import { fileInDirectory } from '../project/filter.js';
import { sha256 } from '../project/hash.js';
import { MAX_BASE_BYTES, byteLength } from './names.js';

/**
 * An environment's files fall into layers; each layer's template is a clone of the previous
 * layer's with that layer's files run into it, so a change in layer k rebuilds from layer k.
 * By default each top-level folder of the repository is a layer; `layers = "none"` keeps one
 * template; `layers = [["0_schema"], ["1_seed_common", "2_seed_backend"]]` groups folders.
 *
 * A layer's *identity* is a hash over every file (path and content hash) of it and the layers
 * before it, with their boundaries. Layer templates other than the last are named after it,
 * so two environments whose first layers hold the same files share those templates, and a
 * layer whose files changed is simply a different template (nothing is overwritten).
 */
export interface LayerFile {
  relativePath: string;
  absolutePath: string;
  sha256: string;
  /** Its named repository, in a project with several (`relativePath` is then `NAME:path`). */
  repository?: { name: string; root: string } | undefined;
}

/** One layer of an environment, in run order. */
export interface Layer<F extends LayerFile = LayerFile> {
  index: number;
  /** Its folders, joined with `+` (`(top level)` for files directly in the repository). */
  label: string;
  files: F[];
  /** Connections its files may run on at once; 1 = one after another. */
  parallel: number;
  identity: string;
  /** The database holding the template of this layer (for the last layer: the environment's template). */
  template: string;
}

/** `[environments.NAME] layers` as configured. */
export type LayersSetting = NonNullable<EnvironmentConfig['layers']>;

const TOP_LEVEL = '(top level)';
/** Connections for `parallel = true`: like pg_restore -j, one per core, within reason. */
export const DEFAULT_PARALLEL = Math.max(2, Math.min(4, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length));

/** A file's layer by default: its top-level folder, of its repository when there are several (`core:0_schema`, `core:(top level)`). */
function topFolder(file: LayerFile): string {
  const name = file.repository?.name;
  const within = name === undefined ? file.relativePath : file.relativePath.slice(name.length + 1);
  const slash = within.indexOf('/');
  const folder = slash < 0 ? TOP_LEVEL : within.slice(0, slash);
  return name === undefined ? folder : `${name}:${folder}`;
}

interface Group<F> {
  label: string;
  files: F[];
  parallel: number;
}

function layersError(environment: string, message: string, hint: string): DbfastError {
  return new DbfastError('LAYERS_INVALID', `environments.${environment}.layers: ${message}`, { hint });
}

function byConfiguredLayers<F extends LayerFile>(environment: EnvironmentConfig, files: readonly F[], setting: Extract<LayersSetting, unknown[]>): Array<Group<F>> {
  const specs = setting.map((entry) => (Array.isArray(entry) ? { folders: entry, parallel: undefined } : entry));
  const groups: Array<Group<F>> = specs.map((spec) => ({
    label: spec.folders.join('+'),
    files: [],
    parallel: spec.parallel === true ? DEFAULT_PARALLEL : typeof spec.parallel === 'number' ? spec.parallel : 1,
  }));
  let current = 0;
  let previousFile: string | undefined;
  for (const file of files) {
    const matches = specs.flatMap((spec, index) => (spec.folders.some((folder) => fileInDirectory(file, folder)) ? [index] : []));
    if (matches.length === 0) {
      throw layersError(environment.name, `${file.relativePath} is in none of the layers`, 'Add its folder to a layer, or leave `layers` out to get one layer per top-level folder.');
    }
    if (matches.length > 1) {
      throw layersError(environment.name, `${file.relativePath} is in layers ${matches.map((index) => index + 1).join(' and ')}`, 'Name each folder in one layer only.');
    }
    const index = matches[0] as number;
    if (index < current) {
      throw layersError(
        environment.name,
        `${file.relativePath} (layer ${index + 1}) runs after ${previousFile} (layer ${current + 1}): layers must follow the order the files run in`,
        'List the layers in run order (files run in natural order of their paths).',
      );
    }
    current = index;
    previousFile = file.relativePath;
    groups[index]?.files.push(file);
  }
  return groups.filter((group) => group.files.length > 0);
}

function byTopFolder<F extends LayerFile>(files: readonly F[]): Array<Group<F>> {
  const groups: Array<Group<F>> = [];
  for (const file of files) {
    const label = topFolder(file);
    const last = groups[groups.length - 1];
    if (last && last.label === label) last.files.push(file);
    else groups.push({ label, files: [file], parallel: 1 });
  }
  return groups;
}

/** Cuts `name` to at most `bytes` UTF-8 bytes without splitting a character. */
function truncateBytes(name: string, bytes: number): string {
  let out = '';
  for (const char of name) {
    if (byteLength(out + char) > bytes) break;
    out += char;
  }
  return out;
}

/** `<template_name>__<identity prefix>`, within the length every template name must keep. */
export function layerTemplateName(templateName: string, identity: string): string {
  const hashLength = 12;
  return `${truncateBytes(templateName, MAX_BASE_BYTES - 2 - hashLength)}__${identity.slice(0, hashLength)}`;
}

/** The chain identity after `files` (and what they include, `reached`: path and hash) were added to `previous`. */
export function nextIdentity(previous: string, files: readonly LayerFile[], reached: ReadonlyArray<readonly [string, string]> = []): string {
  const listed = JSON.stringify(files.map((file) => [file.relativePath, file.sha256]));
  return sha256(`${previous}\n${listed}${reached.length > 0 ? `\n${JSON.stringify(reached)}` : ''}`);
}

/** What besides its files goes into a layer's identity. */
export interface IdentityInputs<F> {
  /** psql variables every file runs with. */
  variables?: Record<string, string> | undefined;
  /** Files a layer's files include (`\i`, transitively), as [path, sha256]. */
  reached?: ((files: readonly F[]) => ReadonlyArray<readonly [string, string]>) | undefined;
  /** `[repository] cluster_setup`'s files (and what they include) as [path, sha256]: what every layer is built on. */
  clusterSetup?: ReadonlyArray<readonly [string, string]> | undefined;
}

/**
 * The environment's layers, in run order. `finalTemplate` is the name the last layer's template
 * has (`<template_name>_<env>`: what seed clones); the others are named by identity.
 */
export function planLayers<F extends LayerFile>(environment: EnvironmentConfig, files: readonly F[], templateName: string, finalTemplate: string, inputs: IdentityInputs<F> = {}): Array<Layer<F>> {
  const setting = environment.layers ?? 'folders';
  let groups: Array<Group<F>>;
  // An environment without files still has a (empty) template: one layer.
  if (files.length === 0 || setting === 'none') groups = [{ label: 'all', files: [...files], parallel: 1 }];
  else if (setting === 'folders') groups = byTopFolder(files);
  else groups = byConfiguredLayers(environment, files, setting);
  const variables = Object.entries(inputs.variables ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // Without variables the identity is what it was before they existed (templates stay valid).
  // The same for a project without cluster setup files.
  const setup = inputs.clusterSetup ?? [];
  let identity = sha256(`dbfast-layers-v1\0${templateName}${variables.length > 0 ? `\0${JSON.stringify(variables)}` : ''}${setup.length > 0 ? `\0setup${JSON.stringify(setup)}` : ''}`);
  return groups.map((group, index) => {
    identity = nextIdentity(identity, group.files, inputs.reached?.(group.files));
    const last = index === groups.length - 1;
    return { index, label: group.label, files: group.files, parallel: group.parallel, identity, template: last ? finalTemplate : layerTemplateName(templateName, identity) };
  });
}
