/*
 * ots: copy buttons, a progressive enhancement.  Each
 * <button data-copy="#id" hidden> copies the value of the field #id; the
 * button stays hidden without JavaScript, where the page says how to copy
 * by hand.  The texts shown after a copy come from the button's
 * data-copied and data-failed (the page's language).  Loaded only by the
 * pages that have such a button (their CSP allows script-src 'self').
 */
(function () {
	'use strict';

	function fallback(field) {
		field.focus();
		field.select();
		try {
			return document.execCommand('copy');
		} catch (e) {
			return false;
		}
	}

	function attach(button) {
		var field = document.querySelector(button.getAttribute('data-copy'));
		var label = button.textContent;
		var timer = null;

		if (!field)
			return;
		function say(text) {
			button.textContent = text;
			if (timer !== null)
				clearTimeout(timer);
			timer = setTimeout(function () {
				button.textContent = label;
				timer = null;
			}, 2500);
		}
		function done(copied) {
			say(button.getAttribute(copied ? 'data-copied' :
			    'data-failed') || label);
		}
		button.addEventListener('click', function () {
			var value = field.value;

			if (navigator.clipboard && navigator.clipboard.writeText)
				navigator.clipboard.writeText(value).then(function () {
					done(true);
				}, function () {
					done(fallback(field));
				});
			else
				done(fallback(field));
		});
		button.hidden = false;
	}

	var buttons = document.querySelectorAll('button[data-copy]');
	for (var i = 0; i < buttons.length; i++)
		attach(buttons[i]);
}());
