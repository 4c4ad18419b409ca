"""The words a student reads: the first-run guide and the Help page (plain HTML, no logic).

The Help page names every menu action and every tab of the Explore dock (a test checks it):
what is on screen is explained somewhere a student can find it.
"""

from advviewer.text.wording import paper_citation_html

GUIDE = ("<b>New here?</b> Pick a <b>target</b> in panel 4 and press <b>Find minimal c</b>: the smallest change "
         "that makes the network see the target appears in panel 5; to you it is still the same digit. "
         "Then drag <b>c</b>. <b>F1</b> explains it all.")

HELP = f"""
<h2>What you are looking at</h2>
<p>A <b>neural network</b> has learnt to read handwritten digits from thousands of examples. An
<b>adversarial example</b> is an image changed so little that a person still sees the same digit, yet
the network confidently sees another one. They were found by {paper_citation_html()}. They matter
because they show the network does not see digits the way we do, and because someone could fool a real
system on purpose.</p>

<h3>The five panels</h3>
<ol>
<li><b>Draw or load a digit.</b> Draw with the left mouse button; the right button, or the <b>Eraser</b>,
rubs out. The slider sets the brush size. The small picture is what the network really gets: 28&times;28
pixels, your drawing cropped, scaled and centred the way the training digits were made.
An empty canvas still gets an answer: the network has no way to say "nothing".</li>
<li><b>What the model thinks:</b> its probability for each class 0&ndash;9 (orange: its answer; a thick
black outline: the attack's target). After an attack, the adversarial image's probabilities appear as hatched
blue bars beside the original's solid ones.</li>
<li><b>Which pixels matter:</b> the <i>input gradient</i>. Blue pixels: brightening them makes the network
more sure of the class; red: less sure. <i>class</i> chooses whose gradient you see (the predicted class,
the target, or any digit); <i>outline the digit</i> draws your strokes over it. <b>Backprop</b> computes the
gradient exactly; <b>Finite differences</b> measures it by nudging each pixel, a check you can see.</li>
<li><b>Fool it.</b> The attack (box-constrained <b>L-BFGS</b>, an optimisation method) searches for the
smallest change <i>r</i>. "Box-constrained": every pixel stays between black and white. Choose the
<b>target</b> (or <i>any other class</i>), then <b>Run</b> at the c on the slider or <b>Find minimal c</b>.
<b>sure</b> says how sure of the target the network must end up: <i>just across the boundary</i> (the
smallest change of all, as in the paper: the network is torn, about 50%), or <i>at least 90%</i> or
<i>99% sure</i> (a larger change, and a convincing picture for a slide).
The bar shows p(target) while it works; <b>Cancel</b> stops it.</li>
<li><b>Result:</b> original + perturbation <i>r</i> = adversarial, with what the network says about each.
<i>magnify r</i> stretches the perturbation's colours to its largest pixel, so a tiny change is visible
(the colour bar gives the true scale). <b>Export&hellip;</b> writes the result to files.</li>
</ol>

<h3>The words</h3>
<ul>
<li><b>c</b> weighs two wishes: fool the network (large c) and keep the change small (small c).
<b>Find minimal c</b> searches the smallest c that still fools it. Each dot in the small plot is one attack:
its c and the size of its change: a blue dot if it fooled the network, a vermillion cross if not.</li>
<li><b>&#8214;r&#8214;<sub>2</sub></b>: the size of the change (square root of the sum of squared pixel changes);
<b>&#8214;r&#8214;<sub>&infin;</sub></b>: the largest change of a single pixel; <b>distortion</b>: the paper's measure,
&#8214;r&#8214;<sub>2</sub>/28.</li>
<li><b>p(target)</b>: how sure the network is of the target class while the attack runs.</li>
<li><b>Iterations</b>: the steps the optimiser took; <b>evaluations</b>: how often it ran the network.</li>
</ul>

<h3>Explore this result (the dock on the right)</h3>
<p><b>View &#9656; Explore this result</b> (Ctrl+T, or the toolbar button) opens six tabs about the result on screen:</p>
<ul>
<li><b>Targets</b>: the smallest change towards each of the nine other classes, with its size
&#8214;r&#8214;<sub>2</sub>. Some classes are much closer than others; the star marks the nearest. Click a tile to show that attack in panel 5.</li>
<li><b>Transfer</b>: does the adversarial made for this model also fool the <i>other</i> models? Each
model's answer on the original and on the adversarial. The paper found that adversarial examples often
fool networks they were not made for.</li>
<li><b>Playback</b>: drag the scrubber to watch the attack step by step; the panels show the image at
that iteration, the plots the size of the change and the target's margin (above 0: the model sees the target).</li>
<li><b>Compare</b>: three attacks on the same digit and target. <b>FGSM</b> (the <i>fast gradient sign
method</i>, Goodfellow et al. 2015) takes one step, changing every pixel by the same amount in the direction
that helps the target: fast, but a larger change. <b>DDN</b> (<i>decoupled direction and norm</i>, Rony et al.
2019) takes many small steps and shrinks the change while it still fools: a modern minimal attack. Beside
them L-BFGS, with the size of each change, the network evaluations it cost and the time.</li>
<li><b>Noise</b>: the <i>noise check</i>, the paper's control experiment. Random noise of the same size
(&#8214;r&#8214;<sub>2</sub>) as the attack's change: the network nearly always still sees your digit. So it is
not the size of the change that fools it, but its carefully chosen direction.</li>
<li><b>Models</b>: the same digit and target attacked on a <i>standard</i> network (<b>cnn</b>) and on a
<i>robust</i> one (<b>cnn-robust</b>, trained on adversarial examples so that small changes do not fool it), side by
side. The two changes are drawn on one colour scale: the robust model needs a much larger change, and its
adversarial starts to look like the target digit, so much that the standard model reads it as the target too
(the last row). Robustness exists, but it costs some accuracy on clean digits.</li>
</ul>

<h3>Exporting, and why the PNG may stop fooling the model</h3>
<p><b>File &#9656; Export</b> (Ctrl+E) writes the adversarial image (28&times;28 PNG and an enlarged viewing copy), a figure
for slides, the perturbation as a coloured PNG, the exact image as .npy and a JSON record of the attack.
<b>File &#9656; Export all results</b> (Ctrl+Shift+E) writes every result of this session, numbered, with an index.csv;
<b>File &#9656; Export all that fooled it</b> only those that fooled the network.
<b>File &#9656; Export the path as GIF/APNG</b> turns the <b>Playback</b> into a moving picture for a slide
(960&times;540): each frame shows the original, the change <i>r</i> and the image at that step of the attack,
with the step, c, &#8214;r&#8214;<sub>2</sub> and the network's answer written in it. A long path is shortened
to 120 frames, the first (your digit) and the last (the result) always kept. It is greyed out when the result
on screen has no path, or no longer matches your digit, model or target.</p>
<p>A PNG stores each pixel as one of 256 levels. The minimal attack stops just across the network's
decision boundary, so rounding each pixel to the nearest level can push the image back. The export says
when that happens. <b>File &#9656; Export, PNG still fools it</b> (Ctrl+Alt+E) scales <i>r</i> up by the smallest factor that
survives the rounding (the JSON record gives the factor); <b>File &#9656; Export all, PNG still fools it</b>
does the same for every result of the session.</p>

<h3>Scenes and lectures: prepare at your desk, show in the lecture hall</h3>
<p><b>File &#9656; Save scene</b> (Ctrl+S) keeps what the window shows in one file: the digit, the model, the
target, c, the result in panel 5 with all its numbers, the open Explore tab, and the session's other results
(the newest 500, for <b>Export all results</b>). <b>File &#9656; Open scene or
lecture</b> (Ctrl+L) shows it again exactly as it was, without running any attack again. All the scene
files of one folder, sorted by name, are a <i>lecture</i>: <b>Next scene</b> (PgDown) and <b>Previous
scene</b> (PgUp) step through it, one prepared example after another. A scene made with your own model
file opens only if that file is still there and unchanged. A scene that cannot be opened leaves the window
as it was, and says why; <b>Next scene</b> then steps over it.</p>

<h3>Menus and keys</h3>
<ul>
<li><b>File</b>: <b>Open image</b> (Ctrl+O; PNG, JPEG, BMP, TIFF, WebP or a .npy array; or drop a file on
the window), <b>Sample digits</b> (Ctrl+G; 5,000 real handwritten digits, by class), <b>Open model file</b>
(Ctrl+Shift+O; your own classifier), the exports above, the scenes above (<b>Save scene</b> Ctrl+S,
<b>Open scene or lecture</b> Ctrl+L, <b>Next scene</b> PgDown, <b>Previous scene</b> PgUp) and <b>Quit</b> (Ctrl+Q).</li>
<li><b>Edit</b>: <b>Undo stroke</b> (Ctrl+Z), <b>Redo stroke</b> (Ctrl+Shift+Z), <b>Clear canvas</b> (Delete),
<b>Eraser</b> (E), <b>Smaller brush</b> ([) and <b>Larger brush</b> (]).</li>
<li><b>Attack</b>: <b>Run at this c</b> (Ctrl+R), <b>Find minimal c</b> (Ctrl+M), <b>Cancel</b> (Esc),
<b>Smaller c</b> (Ctrl+Down), <b>Larger c</b> (Ctrl+Up) and <b>Next target</b> (T: any other class, 0, 1, &hellip;, 9).</li>
<li><b>View</b>: <b>Explore this result</b> (Ctrl+T), <b>Present (full screen, large text)</b> (F11), and
<b>Previous scene</b> / <b>Next scene</b>, which step through the scenes of a lecture (greyed out while no lecture is open).</li>
<li><b>Help</b>: <b>Help: what am I looking at?</b> (F1, this page), <b>Show the first-run guide</b> again,
and <b>About advviewer and the model</b> (Shift+F1): what the chosen model is, how it was trained, how often
it is wrong.</li>
<li>The <b>Model</b> box on the toolbar switches the network (a switch re-runs your last attack on this digit).</li>
</ul>

<h3>Presentation mode, for a lecture hall</h3>
<p><b>View &#9656; Present (full screen, large text)</b> (F11) fills the screen with the five panels and nothing else:
text at least twice as large (three times on a 1920&times;1080 projector), thicker lines in the plots, the menus,
toolbar, status bar and the Explore dock put away. The details a talk does not need (the objective, the brush
tools, the gradient's options, Export) rest hidden. Keys do what the mouse would:</p>
<ul>
<li><b>Space</b>: Find minimal c.</li>
<li><b>Up</b> / <b>Down</b>: a larger or smaller c (a quarter of a decade per press), attacking again at once.</li>
<li><b>T</b>: the next target class.</li>
<li><b>Left</b> / <b>Right</b>: the previous or next scene of a lecture, when one is open.</li>
<li><b>Esc</b> (or F11 again): leave; the window comes back exactly as it was, menus, docks and size included.</li>
</ul>
<p>Drawing still works with the mouse; Delete clears the canvas, E is the eraser, Ctrl+Z undoes a stroke.</p>

<h3>What to try first</h3>
<p>Find minimal c towards a few targets; compare a 1 with an 8. Switch the model and see which is easiest to
fool. Draw a digit badly and see how unsure it gets. Open <b>Explore this result</b> and ask: which target is
nearest? Does the trick fool the other models? Would random noise do the same?</p>
"""
