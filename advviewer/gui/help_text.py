"""The words a student reads: the first-run guide and the Help page (plain HTML, no logic)."""

GUIDE = ("<b>New here?</b> Pick a <b>target</b> in panel 4 and press <b>Find minimal c</b>: the smallest change "
         "that makes the network see the target appears in panel 5; to you it is still the same digit. "
         "Then drag <b>c</b>. <b>F1</b> explains it all.")

HELP = """
<h2>What you are looking at</h2>
<p>A <b>neural network</b> has learnt to read handwritten digits from thousands of examples. An
<b>adversarial example</b> is an image changed so little that a person still sees the same digit, yet
the network confidently sees another one. Szegedy et al. found them in 2013 (<i>Intriguing properties of
neural networks</i>); they matter because they show the network does not see digits the way we do, and
because someone could fool a real system on purpose.</p>
<h3>The five panels</h3>
<ol>
<li><b>Draw or load a digit.</b> The small picture is what the network really gets: 28&times;28 pixels.
An empty canvas still gets an answer: the network has no way to say "nothing".</li>
<li><b>What the model thinks:</b> its probability for each class 0&ndash;9. After an attack, the
adversarial image's probabilities appear beside the original's.</li>
<li><b>Which pixels matter:</b> the <i>input gradient</i>. Blue pixels: brightening them makes the network
more sure of the class; red: less sure.</li>
<li><b>Fool it.</b> The attack (box-constrained <b>L-BFGS</b>, an optimisation method) searches for the
smallest change <i>r</i>. "Box-constrained": every pixel stays between black and white.</li>
<li><b>Result:</b> original + perturbation <i>r</i> = adversarial, with what the network says about each.</li>
</ol>
<h3>The words</h3>
<ul>
<li><b>c</b> weighs two wishes: fool the network (large c) and keep the change small (small c).
<b>Find minimal c</b> searches the smallest c that still fools it. Each dot in the small plot is one attack:
its c and the size of its change, green if it fooled the network.</li>
<li><b>&#8214;r&#8214;<sub>2</sub></b>: the size of the change (square root of the sum of squared pixel changes);
<b>&#8214;r&#8214;<sub>&infin;</sub></b>: the largest change of a single pixel; <b>distortion</b>: the paper's measure,
&#8214;r&#8214;<sub>2</sub>/28.</li>
<li><b>p(target)</b>: how sure the network is of the target class while the attack runs.</li>
</ul>
<h3>Why the exported PNG may stop fooling the model</h3>
<p>A PNG stores each pixel as one of 256 levels. The minimal attack stops just across the network's
decision boundary, so rounding each pixel to the nearest level can push the image back. The export says
when that happens; <b>File &#9656; Export, PNG still fools it</b> scales <i>r</i> up by the smallest factor that
survives the rounding (the JSON record gives the factor).</p>
<h3>What to try first</h3>
<p>Find minimal c towards a few targets; compare a 1 with an 8. Switch the model (a switch re-runs your last
attack on this digit) and see which is easiest to fool. Draw a digit badly and see how unsure it gets.</p>
"""
