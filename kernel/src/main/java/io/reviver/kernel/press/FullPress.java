package io.reviver.kernel.press;

/** No compression: every position stays exact in a dense cache. The reference every other press is measured against. */
public final class FullPress extends KvPress {

    public FullPress() {
        super(1.0);
    }

    @Override
    public String name() {
        return "full";
    }

    @Override
    public boolean isLossless() {
        return true;
    }
}
