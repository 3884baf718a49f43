package shop.opensearch;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.opensearch.action.admin.cluster.health.ClusterHealthResponse;
import org.opensearch.common.settings.Settings;
import org.opensearch.core.common.transport.TransportAddress;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * Starts a real single-node OpenSearch 2.19 in this JVM for the test harness.
 *
 * <p>Usage: {@code Launcher [--http-port N] [--transport-port N] [--home DIR] [--no-stdin-watch] [-Ekey=value ...]}
 *
 * <p>Prints exactly one line to stdout once the cluster is at least yellow:
 * {@code OPENSEARCH_READY http://127.0.0.1:<port>}. All logging goes to stderr.
 * Exits (closing the node) on SIGTERM/SIGINT or when stdin reaches EOF.
 */
public final class Launcher {

    private static final PrintStream OUT = System.out;
    private static final PrintStream ERR = System.err;

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        // Keep stdout reserved for the ready line: anything else that prints to System.out goes to stderr.
        System.setOut(ERR);
        // Our own log4j2 config (stderr only), unless the caller picked one. Must happen before any logger exists.
        if (System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty(
                "log4j2.configurationFile",
                String.valueOf(Launcher.class.getResource("/shop-opensearch-log4j2.xml"))
            );
        }

        int httpPort = 0;
        int transportPort = 0;
        Path home = null;
        boolean watchStdin = !"0".equals(System.getenv("OPENSEARCH_WATCH_STDIN"));
        Settings.Builder extra = Settings.builder();

        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--http-port" -> httpPort = Integer.parseInt(requireValue(args, ++i, a));
                case "--transport-port" -> transportPort = Integer.parseInt(requireValue(args, ++i, a));
                case "--home" -> home = Paths.get(requireValue(args, ++i, a)).toAbsolutePath();
                case "--no-stdin-watch" -> watchStdin = false;
                case "-h", "--help" -> {
                    ERR.println("usage: Launcher [--http-port N] [--transport-port N] [--home DIR] [--no-stdin-watch] [-Ekey=value ...]");
                    System.exit(0);
                }
                default -> {
                    if (a.startsWith("-E") && a.indexOf('=') > 2) {
                        int eq = a.indexOf('=');
                        extra.put(a.substring(2, eq), a.substring(eq + 1));
                    } else {
                        ERR.println("unknown argument: " + a);
                        System.exit(2);
                    }
                }
            }
        }

        final boolean deleteHome = home == null;
        if (home == null) {
            home = Files.createTempDirectory("shop-opensearch-");
        } else {
            Files.createDirectories(home);
        }
        final Path homeDir = home;

        Settings settings = Settings.builder()
            .put("cluster.name", "shop-test")
            .put("node.name", "shop-test-node")
            .put("path.home", homeDir.toString())
            .put("path.data", homeDir.resolve("data").toString())
            .put("path.logs", homeDir.resolve("logs").toString())
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", Integer.toString(httpPort))
            .put("transport.port", Integer.toString(transportPort))
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // Single node: new indices get no replicas (green, not yellow). Only read from the cluster-state
            // metadata, so it is also applied as a persistent cluster setting once the node is up.
            .put("cluster.default_number_of_replicas", 0)
            // Low heap: don't trip the parent breaker on transient real-memory spikes.
            .put("indices.breaker.total.use_real_memory", false)
            .put("action.auto_create_index", true)
            .put(extra.build())
            .build();

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        plugins.add(org.opensearch.transport.Netty4Plugin.class);
        plugins.add(org.opensearch.analysis.common.CommonAnalysisPlugin.class);
        plugins.add(org.opensearch.painless.PainlessPlugin.class);
        plugins.add(org.opensearch.index.mapper.MapperExtrasPlugin.class);
        plugins.add(org.opensearch.index.reindex.ReindexPlugin.class);

        long t0 = System.nanoTime();
        final AtomicReference<Node> nodeRef = new AtomicReference<>();
        final AtomicBoolean closed = new AtomicBoolean(false);
        final CountDownLatch closedLatch = new CountDownLatch(1);
        Runnable shutdown = () -> {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            try {
                Node n = nodeRef.get();
                if (n != null) {
                    n.close();
                    n.awaitClose(20, TimeUnit.SECONDS);
                }
            } catch (Throwable t) {
                ERR.println("error closing OpenSearch node: " + t);
            } finally {
                if (deleteHome) {
                    deleteRecursively(homeDir);
                }
                closedLatch.countDown();
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(shutdown, "opensearch-shutdown"));

        final Node node;
        try {
            node = new ShopNode(settings, plugins);
            nodeRef.set(node);
            node.start();
            ClusterHealthResponse health = node.client()
                .admin()
                .cluster()
                .prepareHealth()
                .setWaitForYellowStatus()
                .setTimeout(org.opensearch.common.unit.TimeValue.timeValueSeconds(60))
                .get();
            if (health.isTimedOut()) {
                throw new IllegalStateException("cluster did not reach yellow: " + health.getStatus());
            }
            node.client()
                .admin()
                .cluster()
                .prepareUpdateSettings()
                .setPersistentSettings(
                    Settings.builder().put("cluster.default_number_of_replicas", settings.get("cluster.default_number_of_replicas"))
                )
                .get();
        } catch (Throwable t) {
            ERR.println("OpenSearch failed to start: " + t);
            t.printStackTrace(ERR);
            System.exit(1);
            return;
        }

        TransportAddress http = node.injector().getInstance(HttpServerTransport.class).boundAddress().publishAddress();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        ERR.println("OpenSearch " + org.opensearch.Version.CURRENT + " started in " + ms + " ms, home=" + homeDir);
        OUT.println("OPENSEARCH_READY http://127.0.0.1:" + http.getPort());
        OUT.flush();

        if (watchStdin) {
            Thread watcher = new Thread(() -> {
                try {
                    InputStream in = System.in;
                    byte[] buf = new byte[1024];
                    while (in.read(buf) >= 0) {
                        // discard
                    }
                } catch (IOException ignored) {
                    // treat as EOF
                }
                ERR.println("stdin closed; shutting down OpenSearch");
                System.exit(0);
            }, "stdin-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        // Keep the main thread alive until shutdown completes.
        closedLatch.await();
    }

    private static String requireValue(String[] args, int i, String flag) {
        if (i >= args.length) {
            ERR.println("missing value for " + flag);
            System.exit(2);
        }
        return args[i];
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            ERR.println("could not delete " + root + ": " + e);
        }
    }
}
