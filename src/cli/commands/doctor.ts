import type { Command } from 'commander';
import { action } from '../action.js';
import { age, wholeNumber } from '../options.js';
import { libraryWithPg } from '../pg-probe.js';

interface DoctorFlags {
  maxBackupAge: string;
  minFreeMb: number;
}

/** `dbfast doctor` and `dbfast config show`: what is set up, and what is wrong with it. */
export function registerDoctorCommands(program: Command): void {
  program
    .command('doctor')
    .description('check what usually goes wrong (config, local server, tools, leftovers, stale templates, backups, remotes) and say how to fix it; exit 3 on problems')
    .option('--max-backup-age <age>', "a remote's newest verified backup may be at most this old", age, '7d')
    .option('--min-free-mb <n>', 'free space a backup folder needs, in MiB', wholeNumber(0), 1024)
    .action(
      action<DoctorFlags>(async (ctx, _args, options) => {
        const [{ doctor }, render] = await Promise.all([libraryWithPg(), import('../render/doctor.js')]);
        // The config is loaded by doctor itself: a config that does not load is one of its findings.
        const report = await doctor({ configPath: ctx.globals.config, maxBackupAge: options.maxBackupAge, minFreeBytes: options.minFreeMb * 1024 * 1024 });
        ctx.out.result(report, (style) => render.renderDoctor(style, report));
        return report.ok ? 0 : 3;
      }),
    );
  const config = program.command('config').description('the configuration dbfast uses');
  config
    .command('show')
    .description('the effective configuration, each value with where it came from (file key, environment variable, default); passwords masked')
    .action(
      action(async (ctx) => {
        const loaded = await ctx.config();
        const [{ showConfig }, render] = await Promise.all([import('../../index.js'), import('../render/doctor.js')]);
        const shown = await showConfig({ config: loaded });
        ctx.out.result(shown, (style) => render.renderConfigShow(style, shown));
      }),
    );
}
