package org.mambavision.training.track;

import java.io.Console;
import java.util.Locale;
import java.util.function.Consumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of one task (an epoch, an evaluation pass). On an interactive terminal it draws a me.tongfei
 * progress bar with ETA and the caller's extra message (loss, accuracy, img/s); otherwise (logs, CI, a pipe)
 * it prints a plain line every ~10% and one at the end, so redirected output stays readable. The API is the
 * same either way, and nothing here throws: a terminal that can't be drawn on falls back to plain lines.
 */
public final class Progress implements AutoCloseable {
    private final boolean interactive;
    private final Consumer<String> log;

    private ProgressBar bar;
    private String task;
    private long total, done;
    private int lastDecile;
    private boolean endLogged;
    private String extra = "";
    private long startNanos;

    /** Bar when standard output is a terminal, else plain lines on standard output. */
    public Progress() {
        this(isTerminal(), System.out::println);
    }

    /** @param interactive draw a progress bar; @param log where plain lines go (when not interactive) */
    public Progress(boolean interactive, Consumer<String> log) {
        this.interactive = interactive;
        this.log = log;
    }

    private static boolean isTerminal() {
        Console c = System.console();
        // Since JDK 22 System.console() may be non-null for redirected output; isTerminal() tells the truth.
        return c != null && c.isTerminal();
    }

    /** Begins a task of {@code total} units (images or batches); closes any task still open. */
    public void start(String task, long total) {
        close();
        this.task = task;
        this.total = total;
        this.done = 0;
        this.lastDecile = 0;
        this.endLogged = false;
        this.extra = "";
        this.startNanos = System.nanoTime();
        if (!interactive) return;
        try {
            bar = new ProgressBarBuilder()
                    .setTaskName(task)
                    .setInitialMax(total)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                    .setUpdateIntervalMillis(200)
                    .setMaxRenderedLength(120)
                    .build();
        } catch (Throwable t) {
            Guard.rethrowIfFatal(t);
            bar = null; // no usable terminal after all: plain lines
        }
    }

    /** Advances by {@code n} units; {@code extra} (e.g. "loss 1.23 acc 0.45 img/s 310") replaces the last one if non-null. */
    public void step(long n, String extra) {
        if (task == null) return;
        done += n;
        if (extra != null) this.extra = extra;
        if (bar != null) {
            try {
                bar.stepBy(n);
                if (extra != null) bar.setExtraMessage(" " + extra);
            } catch (Throwable t) {
                Guard.rethrowIfFatal(t);
                closeBar();
            }
            return;
        }
        if (total <= 0) return;
        int decile = (int) Math.min(10, done * 10 / total);
        if (decile > lastDecile) {
            lastDecile = decile;
            emit();
            if (done >= total) endLogged = true;
        }
    }

    /** Ends the task: the bar is completed, or the final plain line is printed if it wasn't yet. */
    @Override
    public void close() {
        if (task == null) return;
        if (bar != null) closeBar();
        else if (!endLogged) emit();
        task = null;
    }

    private void closeBar() {
        try {
            bar.close();
        } catch (Throwable t) {
            Guard.rethrowIfFatal(t);
        }
        bar = null;
    }

    private void emit() {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        StringBuilder sb = new StringBuilder(task).append(": ");
        if (total > 0) {
            sb.append(String.format(Locale.ROOT, "%3d%% %d/%d", Math.min(100, done * 100 / total), done, total));
        } else {
            sb.append(done);
        }
        if (!extra.isEmpty()) sb.append(" | ").append(extra);
        sb.append(" | ").append(clock(elapsed)).append(" elapsed");
        if (total > 0 && done > 0 && done < total) {
            sb.append(", eta ").append(clock(elapsed * (total - done) / done));
        }
        try {
            log.accept(sb.toString());
        } catch (RuntimeException ignored) {
            // progress output is best-effort
        }
    }

    /** h:mm:ss or m:ss. */
    static String clock(double seconds) {
        long s = Math.round(seconds);
        long h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
        return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec)
                : String.format(Locale.ROOT, "%d:%02d", m, sec);
    }
}
