import { defineCommand } from '../command';

const nonEmpty = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

export const setup = defineCommand<Record<string, never>, { imageDir?: string }>({
  name: 'setup',
  description: 'Prepare this machine to run sandboxes: host packages, checks, the debian base image',
  options: [{ flags: '--image-dir <dir>', description: 'base image cache (default: $POCKETENV_IMAGE_DIR, else /var/cache/pocketenv/images)' }],
  async run(ctx, _args, opts) {
    const { runHostSetup } = await import('../host');
    await runHostSetup({ imageDir: opts.imageDir ?? nonEmpty(ctx.env.POCKETENV_IMAGE_DIR), toolsDir: nonEmpty(ctx.env.POCKETENV_TOOLS_DIR), env: ctx.env });
    ctx.note('pocketenv: this machine is ready to run sandboxes');
  },
});
