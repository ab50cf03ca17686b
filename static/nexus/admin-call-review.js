// A call's review page: a click on a time of the timeline plays the recording from that moment
// (the recording's time 0 is the call's start, as the timeline's).
document.addEventListener("click", function (event) {
  var button = event.target.closest(".nexus-seek");
  var audio = document.getElementById("nexus-recording");
  if (!button || !audio) return;
  audio.currentTime = parseFloat(button.dataset.seek);
  audio.play().catch(function () {});  // a browser refusing to play leaves the position set
});
