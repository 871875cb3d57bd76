import { describe, expect, it } from 'vitest';
import { parseConfigText } from './config-load.js';
import { UsageLabError } from './errors.js';

function errorOf(text: string, env: Record<string, string> = {}): UsageLabError {
  try {
    parseConfigText(text, 'usagelab.yaml', env);
  } catch (err) {
    if (err instanceof UsageLabError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('config loading', () => {
  it('fills defaults for an empty file and for sections left with only comments', () => {
    const { config } = parseConfigText('version: 1\nsources:\n  # amplitude: {}\n', 'usagelab.yaml', {});
    expect(config.timezone).toBe('UTC');
    expect(config.week_start).toBe('monday');
    expect(config.warehouse).toEqual({ engine: 'duckdb', path: '.usagelab/warehouse.duckdb', memory_limit: '2GB' });
    expect(config.sessions.inactivity_minutes).toBe(30);
    expect(config.sources).toEqual({});
  });

  it('points at file:line:column and names the field of an invalid value', () => {
    const err = errorOf('version: 1\ntimezone: Mars/Olympus\n');
    expect(err.code).toBe('config_invalid');
    expect(err.place).toMatchObject({ file: 'usagelab.yaml', line: 2, column: 11, field: 'timezone' });
    expect(err.message).toMatch(/IANA time zone/);
  });

  it('names an unknown key, its position, and the keys allowed there', () => {
    const err = errorOf('version: 1\nsessions:\n  inactivity_minute: 20\n');
    expect(err.place).toMatchObject({ line: 3, column: 3, field: 'sessions.inactivity_minute' });
    expect(err.message).toContain('"inactivity_minute"');
    expect(err.hint).toContain('inactivity_minutes');
  });

  it('reports a nested enum error at the value', () => {
    const err = errorOf('sources:\n  amplitude:\n    region: moon\n');
    expect(err.place).toMatchObject({ line: 3, column: 13, field: 'sources.amplitude.region' });
  });

  it('reports YAML syntax errors with a position', () => {
    const err = errorOf('version: 1\ntimezone: [UTC\n');
    expect(err.code).toBe('config_yaml_invalid');
    expect(err.place.line).toBeGreaterThanOrEqual(2);
  });

  it('interpolates ${VAR} from the environment and records it as a secret value', () => {
    const loaded = parseConfigText('sources:\n  amplitude:\n    api_key: ${AMP_KEY}\n', 'usagelab.yaml', { AMP_KEY: 'fake-key-1234' });
    expect(loaded.config.sources.amplitude?.api_key).toBe('fake-key-1234');
    expect(loaded.referencedVariables).toEqual(['AMP_KEY']);
    expect(loaded.secretValues).toEqual(['fake-key-1234']);
  });

  it('an unset variable is an error naming it and where it is used', () => {
    const err = errorOf('sources:\n  amplitude:\n    api_key: ${AMP_KEY}\n');
    expect(err.code).toBe('config_variable_unset');
    expect(err.message).toContain('AMP_KEY');
    expect(err.place).toMatchObject({ line: 3, column: 14, field: 'api_key' });
    expect(err.hint).toContain('.env');
  });
});
