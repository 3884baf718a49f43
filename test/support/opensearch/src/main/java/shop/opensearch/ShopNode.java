package shop.opensearch;

import java.util.Collection;
import java.util.Collections;

import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * A plain {@link Node} with an explicit classpath plugin list. This is exactly what the test framework's
 * {@code org.opensearch.node.MockNode} constructor does, without pulling the test framework onto the
 * classpath: its randomizedtesting jar makes {@code org.opensearch.common.Randomness} believe it runs
 * inside a RandomizedRunner and the node fails to start outside of one.
 */
final class ShopNode extends Node {
    ShopNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
        super(
            InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> "shop-test-node"),
            plugins,
            true
        );
    }
}
