import { ConfigError, loadConfig } from '@dvd/platform';
import { testIdentityEnv } from '@dvd/testing';
import { communicationConfigSchema } from './communication.config';

const env = (over: Record<string, string> = {}) => ({
  ...testIdentityEnv('communication'),
  PUBLIC_BASE_URL: 'https://dvd.example',
  ...over,
});

describe('communication configuration: appointment reminders', () => {
  it('reminds 24 hours ahead, every minute, by default', () => {
    const config = loadConfig(communicationConfigSchema, env());
    expect(config.APPOINTMENT_REMINDER_LEAD).toEqual({ iso: 'PT24H', ms: 86_400_000 });
    expect(config.APPOINTMENT_REMINDER_SWEEP_INTERVAL_MS).toBe(60_000);
  });

  it.each([
    ['P1D', 86_400_000],
    ['PT30M', 1_800_000],
    ['P1DT12H', 129_600_000],
    ['PT1S', 1000],
  ])('takes a lead of %s', (lead, ms) => {
    expect(loadConfig(communicationConfigSchema, env({ APPOINTMENT_REMINDER_LEAD: lead })).APPOINTMENT_REMINDER_LEAD.ms).toBe(ms);
  });

  it.each(['P1M', 'P1W', 'P1Y', 'PT0S', 'P400D', '24h', 'PT', '-PT1H'])('refuses a lead of %s, naming the variable', (lead) => {
    expect(() => loadConfig(communicationConfigSchema, env({ APPOINTMENT_REMINDER_LEAD: lead }))).toThrow(ConfigError);
    expect(() => loadConfig(communicationConfigSchema, env({ APPOINTMENT_REMINDER_LEAD: lead }))).toThrow(/APPOINTMENT_REMINDER_LEAD/);
  });

  it('needs the public URL (the host of calendar UIDs)', () => {
    const { PUBLIC_BASE_URL: _unused, ...without } = env();
    expect(() => loadConfig(communicationConfigSchema, without)).toThrow(/PUBLIC_BASE_URL is required/);
  });
});
